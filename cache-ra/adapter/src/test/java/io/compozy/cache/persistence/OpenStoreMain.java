package io.compozy.cache.persistence;

import java.nio.file.Path;
import java.util.Optional;

/** A second process opening a snapshot store, as a second server on the same data_dir would. */
public final class OpenStoreMain {

    static final int IN_USE = 3;

    private OpenStoreMain() {
    }

    public static void main(final String[] args) {
        try (SnapshotStore store = SnapshotStore.open(Path.of(args[0]), Optional.empty())) {
            System.out.println("opened");
            System.exit(0);
        } catch (PersistenceException e) {
            System.out.println(e.getMessage());
            System.exit(IN_USE);
        }
    }
}
