package io.compozy.cache.api;

/**
 * A snapshot, an RDB upload or a restore that this server could not complete: its data directory
 * ({@code redis.standalone.persistence.data_dir}) is full or failing, the snapshot store cannot be used, or
 * the embedded server refused the data. Not the caller's fault, so never a reason to change what was sent.
 * The message says what was not done and why, names the data directory where the disk is the cause, and
 * never holds a secret; {@link #liveDataChanged()} says whether the data applications see is still what it
 * was before the call.
 */
public class SnapshotFailedException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    private final boolean liveDataChanged;

    public SnapshotFailedException(final String message, final boolean liveDataChanged, final Throwable cause) {
        super(message, cause);
        this.liveDataChanged = liveDataChanged;
    }

    /**
     * Whether the live data changed before the failure: only a restore can change it (the embedded server
     * then runs on other data than before the call, or on none); a snapshot or an upload never does.
     */
    public boolean liveDataChanged() {
        return liveDataChanged;
    }
}
