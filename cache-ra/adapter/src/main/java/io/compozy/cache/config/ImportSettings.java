package io.compozy.cache.config;

import java.nio.file.Path;
import java.util.Base64;
import java.util.Optional;

/**
 * Moving the data with the mode, at start (docs/migration.md):
 *
 * <ul>
 *   <li>distributed mode: {@code redis.distributed.import.data_dir} names a standalone snapshot store whose
 *       newest generation is copied into the external Redis when that Redis is empty;</li>
 *   <li>standalone mode: {@code redis.standalone.import.from} names a Redis whose data is copied into the
 *       embedded server when {@code data_dir} holds no generation yet.</li>
 * </ul>
 *
 * @param fromDataDir the standalone snapshot store to import into the external Redis
 * @param fromDataDirKey the encryption key of that store (base64 of 32 bytes), when it is encrypted
 * @param fromRedis the Redis to import into the embedded server
 * @param fromRedisUsername its ACL user, when it needs one
 * @param fromRedisPassword its password, when it needs one
 */
public record ImportSettings(
        Optional<Path> fromDataDir,
        Optional<Secret> fromDataDirKey,
        Optional<RedisAddress> fromRedis,
        Optional<String> fromRedisUsername,
        Optional<Secret> fromRedisPassword) {

    public static final String DISTRIBUTED_DATA_DIR = "redis.distributed.import.data_dir";
    public static final String DISTRIBUTED_ENCRYPTION_KEY = "redis.distributed.import.encryption_key";
    public static final String STANDALONE_FROM = "redis.standalone.import.from";
    public static final String STANDALONE_USERNAME = "redis.standalone.import.username";
    public static final String STANDALONE_PASSWORD = "redis.standalone.import.password";

    /** Nothing to import. */
    public static ImportSettings none() {
        return new ImportSettings(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty());
    }

    /**
     * Reads and validates the import keys of both modes (a typo never waits for a mode switch).
     *
     * @param persistence the standalone persistence in effect: importing into the embedded server needs it on,
     *     since an empty {@code data_dir} is what says the import has not happened yet
     * @throws InvalidConfigurationException naming the first invalid key, never a password or key material
     */
    public static ImportSettings load(final ConfigLookup config, final Mode mode, final PersistenceSettings persistence) {
        Optional<Path> dataDir = config.get(DISTRIBUTED_DATA_DIR).map(Path::of);
        Optional<Secret> key = config.get(DISTRIBUTED_ENCRYPTION_KEY)
                .map(value -> PersistenceSettings.encryptionKey(DISTRIBUTED_ENCRYPTION_KEY, value));
        Optional<RedisAddress> from = config.get(STANDALONE_FROM).map(raw -> RedisAddress.parse(STANDALONE_FROM, raw));
        if (from.isPresent() && mode == Mode.STANDALONE && !persistence.enabled()) {
            throw new InvalidConfigurationException(STANDALONE_FROM, "it needs " + PersistenceSettings.ENABLED
                    + "=true: the import runs when " + PersistenceSettings.DATA_DIR + " holds no snapshot yet, and its"
                    + " first snapshot keeps a restart from importing again");
        }
        Optional<String> username = config.get(STANDALONE_USERNAME).or(() -> from.flatMap(RedisAddress::username));
        Optional<Secret> password = config.raw(STANDALONE_PASSWORD).filter(p -> !p.isEmpty()).map(Secret::of)
                .or(() -> from.flatMap(RedisAddress::password));
        return new ImportSettings(dataDir, key, from, username, password);
    }

    /** The 32 key bytes of the store to import, when it is encrypted. */
    public Optional<byte[]> fromDataDirKeyBytes() {
        return fromDataDirKey.map(secret -> Base64.getDecoder().decode(secret.reveal()));
    }
}
