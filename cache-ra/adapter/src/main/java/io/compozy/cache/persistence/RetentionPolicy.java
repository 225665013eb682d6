package io.compozy.cache.persistence;

import com.sleepycat.je.Transaction;
import java.util.ArrayList;
import java.util.List;

/**
 * Which generations the store keeps: the newest {@code retain}; the older ones are deleted, each in its own
 * transaction, and JE then reclaims their space. The caller holds the environment's read lock.
 */
final class RetentionPolicy {

    private final SnapshotEnvironment environment;
    private final GenerationFormat format;

    RetentionPolicy(final SnapshotEnvironment environment, final GenerationFormat format) {
        this.environment = environment;
        this.format = format;
    }

    /**
     * Deletes the generations of {@code newestFirst} beyond the newest {@code retain}.
     *
     * @return the generations deleted
     */
    List<Long> prune(final List<StoredGeneration> newestFirst, final int retain) {
        List<Long> deleted = new ArrayList<>();
        for (StoredGeneration old : newestFirst.subList(Math.min(retain, newestFirst.size()), newestFirst.size())) {
            Transaction txn = environment.env().beginTransaction(null, SnapshotEnvironment.noSync());
            try {
                format.delete(txn, old.generation());
                txn.commit();
                txn = null;
                deleted.add(old.generation());
            } finally {
                if (txn != null) {
                    txn.abort();
                }
            }
        }
        if (!deleted.isEmpty()) {
            environment.reclaimSpace();
        }
        return deleted;
    }
}
