package io.compozy.cache.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;

/**
 * Standalone persistence: point-in-time snapshots of the embedded redis-server into a Berkeley DB JE
 * store in {@code data_dir}. Read once with the other settings; see docs/persistence.md.
 *
 * @param enabled whether snapshots are taken and restored at all
 * @param dataDir where the snapshot store lives (present whenever {@code enabled} in standalone mode)
 * @param snapshotInterval how often the application's timer takes a snapshot
 * @param snapshotOnShutdown whether stopping the adapter takes a final snapshot
 * @param restoreOnStartup whether starting the adapter loads the newest valid snapshot
 * @param retain how many generations the store keeps (at least one)
 * @param encryptionKey the AES-256 key as base64 of 32 bytes, when snapshots are encrypted
 * @param slowSnapshotThreshold a snapshot that takes longer is logged as a WARNING
 * @param aof whether the embedded server also logs every write to an append-only file in {@code data_dir}
 *     ({@link AppendFsync#OFF} whenever persistence is off)
 */
public record PersistenceSettings(
        boolean enabled,
        Optional<Path> dataDir,
        Duration snapshotInterval,
        boolean snapshotOnShutdown,
        boolean restoreOnStartup,
        int retain,
        Optional<Secret> encryptionKey,
        Duration slowSnapshotThreshold,
        AppendFsync aof) {

    public static final String ENABLED = "redis.standalone.persistence.enabled";
    public static final String DATA_DIR = "redis.standalone.persistence.data_dir";
    public static final String SNAPSHOT_INTERVAL = "redis.standalone.persistence.snapshot_interval";
    public static final String SNAPSHOT_ON_SHUTDOWN = "redis.standalone.persistence.snapshot_on_shutdown";
    public static final String RESTORE_ON_STARTUP = "redis.standalone.persistence.restore_on_startup";
    public static final String RETAIN = "redis.standalone.persistence.retain";
    public static final String ENCRYPTION_KEY = "redis.standalone.persistence.encryption_key";
    public static final String SLOW_SNAPSHOT_THRESHOLD = "redis.standalone.persistence.slow_snapshot_threshold";
    public static final String AOF = "redis.standalone.persistence.aof";
    /** Redis's working directory inside {@code data_dir} when it keeps an append-only file. */
    public static final String AOF_HOME = "redis";

    static final String DEFAULT_ENABLED = "false";
    static final String DEFAULT_SNAPSHOT_INTERVAL = "5m";
    static final String DEFAULT_SNAPSHOT_ON_SHUTDOWN = "true";
    static final String DEFAULT_RESTORE_ON_STARTUP = "true";
    static final int DEFAULT_RETAIN = 3;
    /** The spec's alert level for snapshot duration. */
    static final String DEFAULT_SLOW_SNAPSHOT_THRESHOLD = "5s";
    /** The code's default; the shipped server.xml sets everysec. */
    static final String DEFAULT_AOF = "off";

    /** How often the append-only file is synced to disk: never written, Redis's appendfsync everysec or always. */
    public enum AppendFsync {
        OFF, EVERYSEC, ALWAYS;

        /** The value as written in configuration and in Redis's own appendfsync. */
        public String value() {
            return name().toLowerCase(Locale.ROOT);
        }

        static AppendFsync parse(final String raw) {
            for (AppendFsync fsync : values()) {
                if (fsync.value().equals(raw.trim().toLowerCase(Locale.ROOT))) {
                    return fsync;
                }
            }
            throw new InvalidConfigurationException(AOF, "'" + raw + "' is not an append-only file setting;"
                    + " allowed values: off | everysec | always");
        }
    }

    /** AES-256. */
    public static final int KEY_BYTES = 32;
    /** An encryption key value that starts with this names a file holding the base64 key. */
    public static final String KEY_FILE_PREFIX = "file:";

    /**
     * Reads and validates the persistence keys.
     *
     * @param standalone whether the adapter runs its own redis-server: only then is {@code data_dir}
     *     required (every other value is validated in both modes, so a typo never waits for a mode switch)
     * @throws InvalidConfigurationException for the first invalid key, naming it and never the key material
     */
    public static PersistenceSettings load(final ConfigLookup config, final boolean standalone) {
        boolean enabled = bool(config, ENABLED, DEFAULT_ENABLED);
        Optional<Path> dataDir = config.get(DATA_DIR).map(Path::of);
        if (enabled && standalone && dataDir.isEmpty()) {
            throw new InvalidConfigurationException(DATA_DIR, "it is required when " + ENABLED
                    + " is true; set it to a directory only this server uses (it is created with mode 0700)");
        }
        Duration interval = Durations.parsePositive(SNAPSHOT_INTERVAL,
                config.get(SNAPSHOT_INTERVAL).orElse(DEFAULT_SNAPSHOT_INTERVAL));
        boolean onShutdown = bool(config, SNAPSHOT_ON_SHUTDOWN, DEFAULT_SNAPSHOT_ON_SHUTDOWN);
        boolean onStartup = bool(config, RESTORE_ON_STARTUP, DEFAULT_RESTORE_ON_STARTUP);
        int retain = retain(config);
        Optional<Secret> key = config.get(ENCRYPTION_KEY).map(PersistenceSettings::encryptionKey);
        Duration slow = Durations.parsePositive(SLOW_SNAPSHOT_THRESHOLD,
                config.get(SLOW_SNAPSHOT_THRESHOLD).orElse(DEFAULT_SLOW_SNAPSHOT_THRESHOLD));
        AppendFsync aof = AppendFsync.parse(config.get(AOF).orElse(DEFAULT_AOF));
        if (key.isPresent() && aof != AppendFsync.OFF) {
            // The AOF is Redis's own plaintext log of every write: it cannot honour the key.
            throw new InvalidConfigurationException(AOF, "'" + aof.value() + "' cannot be combined with "
                    + ENCRYPTION_KEY + ": the append-only file is written in plaintext. Either set " + AOF
                    + "=off (encrypted snapshots only) or keep the AOF and put data_dir on an encrypted file"
                    + " system instead of setting " + ENCRYPTION_KEY + "; see docs/security.md");
        }
        return new PersistenceSettings(enabled, dataDir, interval, onShutdown, onStartup, retain, key, slow,
                enabled ? aof : AppendFsync.OFF);
    }

    /** Whether the embedded server keeps an append-only file in {@code data_dir}. */
    public boolean appendOnly() {
        return enabled && aof != AppendFsync.OFF;
    }

    /**
     * The directory Redis works in when it keeps an AOF ({@code data_dir/redis}): the AOF directory and
     * Redis's rewrite files must share one file system, since Redis renames one into the other.
     */
    public Optional<Path> appendOnlyHome() {
        return appendOnly() ? dataDir.map(dir -> dir.resolve(AOF_HOME)) : Optional.empty();
    }

    /** Persistence turned off: nothing is read from or written to disk. */
    public static PersistenceSettings disabled() {
        return new PersistenceSettings(false, Optional.empty(), Duration.parse("PT5M"), true, true,
                DEFAULT_RETAIN, Optional.empty(), Duration.ofSeconds(5), AppendFsync.OFF);
    }

    /** The 32 key bytes, when encryption is on. */
    public Optional<byte[]> keyBytes() {
        return encryptionKey.map(secret -> Base64.getDecoder().decode(secret.reveal()));
    }

    private static boolean bool(final ConfigLookup config, final String key, final String defaultValue) {
        String raw = config.get(key).orElse(defaultValue).toLowerCase(Locale.ROOT);
        return switch (raw) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new InvalidConfigurationException(key, "'" + raw + "' is not a boolean; write true or false");
        };
    }

    private static int retain(final ConfigLookup config) {
        String raw = config.get(RETAIN).orElse(Integer.toString(DEFAULT_RETAIN));
        try {
            int retain = Integer.parseInt(raw);
            if (retain >= 1) {
                return retain;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new InvalidConfigurationException(RETAIN, "'" + raw
                + "' is not a number of generations; write a whole number of at least 1 (the default is 3)");
    }

    /**
     * Accepts the base64 (standard or URL-safe) of exactly 32 random bytes, for example the output of
     * {@code openssl rand -base64 32}, either inline or in a file named by {@code file:/path}. Errors
     * name the key and, for a file, its path; never the key material.
     */
    static Secret encryptionKey(final String value) {
        return encryptionKey(ENCRYPTION_KEY, value);
    }

    /** As {@link #encryptionKey(String)}, for another key that holds the same kind of value ({@code configKey}). */
    static Secret encryptionKey(final String configKey, final String value) {
        String text = value;
        String origin = "the value";
        if (value.startsWith(KEY_FILE_PREFIX)) {
            Path file = Path.of(value.substring(KEY_FILE_PREFIX.length()).trim());
            origin = "the file " + file;
            try {
                text = Files.readString(file, StandardCharsets.UTF_8).trim();
            } catch (IOException | RuntimeException e) {
                throw new InvalidConfigurationException(configKey, "cannot read the key file " + file + " ("
                        + e.getClass().getSimpleName() + "); check the path and that this server's user may read it");
            }
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(text.replace('-', '+').replace('_', '/'));
        } catch (IllegalArgumentException e) {
            throw invalidKey(configKey, origin, "is not base64");
        }
        if (bytes.length != KEY_BYTES) {
            throw invalidKey(configKey, origin, "decodes to " + bytes.length + " bytes, not " + KEY_BYTES);
        }
        return Secret.of(Base64.getEncoder().encodeToString(bytes));
    }

    private static InvalidConfigurationException invalidKey(final String configKey, final String origin,
                                                            final String problem) {
        return new InvalidConfigurationException(configKey, origin + " " + problem + "; the key must be the"
                + " base64 of " + KEY_BYTES + " random bytes (generate one with: openssl rand -base64 32), inline or"
                + " in a file named as " + KEY_FILE_PREFIX + "/path/to/keyfile");
    }
}
