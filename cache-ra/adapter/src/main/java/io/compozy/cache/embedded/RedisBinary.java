package io.compozy.cache.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Optional;

/**
 * Finds the redis-server to run: the operator's own binary when configured, else the statically
 * linked Redis 7.0 that the embedded-redis library carries as a class path resource, extracted once
 * into the private work directory.
 */
public final class RedisBinary {

    /** The version the embedded-redis jar bundles (org.signal:embedded-redis 0.9.1). */
    static final String BUNDLED_VERSION = "7.0.15";

    private RedisBinary() {
    }

    /** The bundled redis-server, extracted into {@code dir}: the test harness runs it with TLS arguments of its own. */
    public static Path bundled(final Path dir) throws IOException {
        return resolve(Optional.empty(), dir);
    }

    public static Path resolve(final Optional<Path> configured, final Path workDir) throws IOException {
        if (configured.isPresent()) {
            return configured.get();
        }
        String resource = bundledResourceName();
        Path target = workDir.resolve(resource);
        try (InputStream in = RedisBinary.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("the embedded-redis library has no redis-server for this platform ("
                        + resource + "); set redis.standalone.binary to a redis-server 7.x binary");
            }
            byte[] bytes = in.readAllBytes();
            if (Files.isRegularFile(target) && Files.size(target) == bytes.length && Files.isExecutable(target)) {
                return target;
            }
            // Write aside and rename, so a concurrent or killed start never runs a half-written file.
            Path partial = Files.createTempFile(workDir, resource, ".partial");
            try {
                Files.write(partial, bytes);
                partial.toFile().setExecutable(true, true);
                Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(partial);
            }
            return target;
        }
    }

    /** The name the embedded-redis jar gives the binary for this OS and CPU. */
    static String bundledResourceName() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        String osPart = os.contains("mac") ? "darwin" : os.contains("linux") ? "linux" : os;
        String archPart = switch (arch) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64", "arm64" -> "arm64";
            case "x86", "i386", "i686" -> "386";
            default -> arch;
        };
        return "redis-server-" + BUNDLED_VERSION + "-" + osPart + "-" + archPart;
    }
}
