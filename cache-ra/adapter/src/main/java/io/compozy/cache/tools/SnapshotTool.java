package io.compozy.cache.tools;

import io.compozy.cache.api.SnapshotInfo;
import io.compozy.cache.config.ConfigLookup;
import io.compozy.cache.config.InvalidConfigurationException;
import io.compozy.cache.config.PersistenceSettings;
import io.compozy.cache.persistence.GenerationExport;
import io.compozy.cache.persistence.PersistenceException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The offline snapshot command, for the data directory of a stopped server (the running server holds the
 * store's lock): lists the generations, and exports one as a plain RDB file. docs/migration.md shows it.
 *
 * <pre>
 * java -jar compozy-cache-snapshot-tool.jar list   --data-dir DIR
 * java -jar compozy-cache-snapshot-tool.jar export --data-dir DIR [--generation N] --out FILE.rdb
 * </pre>
 *
 * The encryption key, when the generations are encrypted, comes as the server takes it: the environment
 * variable {@value #KEY_ENV} (base64, or {@code file:/path}), or {@code --key-file PATH}; never as an argument
 * value, which other users could read in the process list.
 */
public final class SnapshotTool {

    public static final String KEY_ENV = "REDIS_STANDALONE_PERSISTENCE_ENCRYPTION_KEY";
    static final String USAGE = String.join("\n",
            "usage: java -jar compozy-cache-snapshot-tool.jar list   --data-dir DIR [--key-file FILE]",
            "       java -jar compozy-cache-snapshot-tool.jar export --data-dir DIR [--generation N] --out FILE.rdb"
                    + " [--key-file FILE]",
            "The encryption key (when the snapshots are encrypted): --key-file FILE, or the environment variable "
                    + KEY_ENV + ".",
            "Run it while the server is stopped: a running server holds the store.");

    private SnapshotTool() {
    }

    public static void main(final String[] args) {
        System.exit(run(args, System.getenv(KEY_ENV), System.out, System.err));
    }

    /**
     * Runs one command.
     *
     * @param keyFromEnv the value of {@value #KEY_ENV}, or null
     * @return the exit status: 0 done, 1 failed (the message says why), 2 wrong usage
     */
    public static int run(final String[] args, final String keyFromEnv, final PrintStream out, final PrintStream err) {
        Map<String, String> options = new HashMap<>();
        if (args.length == 0 || !(args[0].equals("list") || args[0].equals("export"))) {
            err.println(USAGE);
            return 2;
        }
        for (int i = 1; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                err.println("'" + args[i] + "' needs a value\n" + USAGE);
                return 2;
            }
            options.put(args[i].substring(2), args[i + 1]);
        }
        if (!options.containsKey("data-dir") || args[0].equals("export") && !options.containsKey("out")) {
            err.println(USAGE);
            return 2;
        }
        try (GenerationExport export = GenerationExport.openOffline(Path.of(options.get("data-dir")),
                key(options.get("key-file"), keyFromEnv))) {
            if (args[0].equals("list")) {
                out.println("generation  taken at                  keys        bytes  redis  encrypted  sha256");
                for (SnapshotInfo info : export.generations()) {
                    out.printf("%10d  %-24s %6d %12d  %-6s %-9s  %s%n", info.generation(), info.takenAt(), info.keys(),
                            info.bytes(), info.redisVersion(), info.encrypted(), info.sha256());
                }
                return 0;
            }
            OptionalLong generation = options.containsKey("generation")
                    ? OptionalLong.of(Long.parseLong(options.get("generation"))) : OptionalLong.empty();
            Path file = Path.of(options.get("out"));
            SnapshotInfo info = export.writeRdb(generation, file);
            out.println("Exported generation " + info.generation() + " (taken at " + info.takenAt() + ", " + info.keys()
                    + " keys, written by Redis " + info.redisVersion() + ") to " + file + ": " + info.bytes()
                    + " bytes, SHA-256 checked");
            return 0;
        } catch (NumberFormatException e) {
            err.println("--generation must be a generation number, as 'list' shows them");
            return 2;
        } catch (PersistenceException | InvalidConfigurationException | IOException e) {
            err.println("Failed: " + e.getMessage());
            return 1;
        }
    }

    /** The key as the server reads it (same checks, same messages), from a file or the environment. */
    private static Optional<byte[]> key(final String keyFile, final String keyFromEnv) {
        Map<String, String> values = new HashMap<>();
        if (keyFile != null) {
            values.put(PersistenceSettings.ENCRYPTION_KEY, PersistenceSettings.KEY_FILE_PREFIX + keyFile);
        } else if (keyFromEnv != null) {
            values.put(PersistenceSettings.ENCRYPTION_KEY, keyFromEnv);
        }
        return PersistenceSettings.load(ConfigLookup.of(values), false).keyBytes();
    }
}
