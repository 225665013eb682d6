package io.compozy.cache.persistence;

import io.compozy.cache.adapter.CacheBackend;
import java.util.HashMap;
import java.util.Map;

/** A server starting with the configuration given as {@code key=value} arguments, in a process a test can kill. */
public final class ImportMain {

    private ImportMain() {
    }

    public static void main(final String[] args) {
        Map<String, String> values = new HashMap<>();
        for (String arg : args) {
            int equals = arg.indexOf('=');
            values.put(arg.substring(0, equals), arg.substring(equals + 1));
        }
        try (CacheBackend backend = Standalone.startBackend(values)) {
            System.out.println("started");
        } catch (RuntimeException e) {
            System.out.println("refused: " + e.getMessage());
            System.exit(1);
        }
        System.exit(0);
    }
}
