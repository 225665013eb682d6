package io.compozy.cache.embedded;

import io.compozy.cache.config.CacheSettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Logger;

/**
 * The redis-server to run, checked before it runs, and what it is.
 *
 * <p>In order: the operator's own binary ({@code redis.standalone.binary}), described by its {@code --version}
 * line; else the redis-server built from Debian's security-patched source by {@code tools/redis-server/build.sh}
 * (the {@code compozy-cache-redis-server} jar, linux-amd64), with the provenance file that records its
 * SHA-256; else, on platforms without such a build, the upstream Redis 7.0.15 that {@code org.signal:embedded-redis}
 * carries, which lacks every security fix since 2024 and is run with a warning at every start. A bundled binary
 * is extracted once into the private work directory, under a name that carries its SHA-256, and its bytes are
 * checked against the recorded SHA-256 in the jar, after extraction and at every later start: a binary that
 * differs is refused, naming the file.
 */
public final class RedisBinary {

    /** The version the embedded-redis jar bundles (org.signal:embedded-redis 0.9.1). */
    static final String BUNDLED_VERSION = "7.0.15";
    /** Where build.sh puts the patched build of one platform: {@code <dir>/redis-server} and its provenance. */
    static final String PATCHED_DIR = "io/compozy/cache/redis/";
    static final String PROVENANCE = "redis-server.provenance";
    /** The SHA-256 of each binary embedded-redis 0.9.1 carries, as Maven Central serves it. */
    private static final String LEGACY_CHECKSUMS = "io/compozy/cache/embedded/embedded-redis-0.9.1.sha256";
    private static final String LEGACY_DESCRIPTION = BUNDLED_VERSION
            + " upstream (org.signal:embedded-redis 0.9.1, built 2024), without the security fixes published since";
    private static final long VERSION_TIMEOUT_SECONDS = 5;
    private static final Logger LOG = Logger.getLogger(RedisBinary.class.getName());

    /** Where the binary that runs comes from. */
    public enum Origin {
        /** Built from Debian's patched source by tools/redis-server/build.sh, shipped with the adapter. */
        PATCHED_BUILD,
        /** embedded-redis's upstream 7.0.15, on platforms without a patched build. */
        UPSTREAM_7_0_15,
        /** The operator's own, from {@code redis.standalone.binary}. */
        OPERATOR
    }

    private final Path path;
    private final Origin origin;
    private final String description;

    private RedisBinary(final Path path, final Origin origin, final String description) {
        this.path = path;
        this.origin = origin;
        this.description = description;
    }

    /** The bundled redis-server, extracted into {@code dir}: the test harness runs it with TLS arguments of its own. */
    public static Path bundled(final Path dir) throws IOException {
        return select(Optional.empty(), dir).path();
    }

    public static Path resolve(final Optional<Path> configured, final Path workDir) throws IOException {
        return select(configured, workDir).path();
    }

    /**
     * The binary a start runs, verified, and logged: at INFO what it is, at WARNING every time when it is the
     * upstream 7.0.15 without security fixes.
     *
     * @throws IOException when the bundled binary differs from its recorded SHA-256 (the message names the file
     *     or the jar entry), or this platform has no bundled binary
     */
    public static RedisBinary select(final Optional<Path> configured, final Path workDir) throws IOException {
        RedisBinary binary = select(configured, workDir, RedisBinary.class.getClassLoader(), platform());
        LOG.info(() -> "The embedded redis-server is " + binary.description() + ": " + binary.path());
        if (binary.origin() == Origin.UPSTREAM_7_0_15) {
            LOG.warning("The embedded redis-server for " + platform() + " is Redis " + LEGACY_DESCRIPTION
                    + " (among them CVE-2025-49844, remote code execution through Lua): no patched build is bundled for"
                    + " this platform. Set " + CacheSettings.BINARY + " to a redis-server 7.x that carries them, such"
                    + " as your distribution's package (docs/security.md).");
        }
        return binary;
    }

    /** {@link #select(Optional, Path)} reading the bundled binaries from {@code loader}, for {@code platform}. */
    static RedisBinary select(final Optional<Path> configured, final Path workDir, final ClassLoader loader,
                              final String platform) throws IOException {
        Objects.requireNonNull(workDir, "workDir");
        if (configured.isPresent()) {
            Path own = configured.get();
            return new RedisBinary(own, Origin.OPERATOR, "the operator's own (" + versionLine(own) + ")");
        }
        String dir = PATCHED_DIR + platform + "/";
        Optional<Provenance> provenance = Provenance.read(loader, dir + PROVENANCE);
        if (provenance.isPresent()) {
            Provenance built = provenance.get();
            Path target = workDir.resolve("redis-server-" + built.redisVersion() + "-" + built.debianRevision() + "-"
                    + platform + "-" + built.sha256().substring(0, 12));
            extractVerified(loader, dir + "redis-server", built.sha256(), target);
            return new RedisBinary(target, Origin.PATCHED_BUILD, built.description());
        }
        String legacy = "redis-server-" + BUNDLED_VERSION + "-" + platform;
        String sha256 = legacyChecksum(loader, legacy).orElseThrow(() -> new IOException(
                "No redis-server is bundled for this platform (" + platform + "); set " + CacheSettings.BINARY
                        + " to a redis-server 7.x binary"));
        Path target = workDir.resolve(legacy + "-" + sha256.substring(0, 12));
        extractVerified(loader, legacy, sha256, target);
        return new RedisBinary(target, Origin.UPSTREAM_7_0_15, LEGACY_DESCRIPTION);
    }

    /** The file that runs. */
    public Path path() {
        return path;
    }

    public Origin origin() {
        return origin;
    }

    /**
     * What runs, for status, readiness and the start-up log: "7.0.15 with Debian security fixes deb12u10" for the
     * patched build, the {@code --version} line for the operator's binary, and for embedded-redis's binary its
     * version with the note that it lacks the security fixes.
     */
    public String description() {
        return description;
    }

    @Override
    public String toString() {
        return description + " (" + path + ")";
    }

    /** The platform name of the bundled binaries: {@code linux-amd64}, {@code darwin-arm64}, ... */
    static String platform() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        String osPart = os.contains("mac") ? "darwin" : os.contains("linux") ? "linux" : os;
        String archPart = switch (arch) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64", "arm64" -> "arm64";
            case "x86", "i386", "i686" -> "386";
            default -> arch;
        };
        return osPart + "-" + archPart;
    }

    /**
     * Makes {@code target} hold the resource's bytes, checked against {@code sha256}: in the jar before anything is
     * written, and on disk after extraction and at every later start (the file is what runs, so it is what counts).
     */
    private static void extractVerified(final ClassLoader loader, final String resource, final String sha256,
                                        final Path target) throws IOException {
        if (!Files.exists(target)) {
            URL url = loader.getResource(resource);
            if (url == null) {
                throw new IOException("The bundled redis-server " + resource + " is missing from the class path,"
                        + " though its SHA-256 is recorded; set " + CacheSettings.BINARY + " to a redis-server 7.x");
            }
            byte[] bytes;
            try (InputStream in = url.openStream()) {
                bytes = in.readAllBytes();
            }
            String found = sha256(bytes);
            if (!found.equals(sha256)) {
                throw new IOException(refusal(url.toString(), sha256, found, "The adapter's jar is damaged or was"
                        + " changed: deploy an intact one, or set " + CacheSettings.BINARY + " to a redis-server you"
                        + " trust."));
            }
            // Write aside and rename, so a concurrent or killed start never runs a half-written file.
            Path partial = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".partial");
            try {
                Files.write(partial, bytes);
                partial.toFile().setExecutable(true, true);
                Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(partial);
            }
        }
        String found = sha256(target);
        if (!found.equals(sha256)) {
            throw new IOException(refusal(target.toString(), sha256, found, "It was changed after the adapter"
                    + " extracted it: find out by whom, then delete it to have the bundled binary extracted again."));
        }
        if (!Files.isExecutable(target)) {
            target.toFile().setExecutable(true, true);
        }
    }

    private static String refusal(final String file, final String expected, final String found, final String advice) {
        return "Refusing to run the redis-server " + file + ": its SHA-256 is " + found + ", not the " + expected
                + " its provenance records. " + advice;
    }

    /** The first line {@code binary --version} prints ("Redis server v=7.0.15 sha=... malloc=..."), or why none. */
    static String versionLine(final Path binary) {
        try {
            Process process = new ProcessBuilder(binary.toString(), "--version").redirectErrorStream(true).start();
            process.getOutputStream().close();
            // Reads until the process closes its output: a binary that hangs is cut off by the timeout below.
            CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
                try (InputStream in = process.getInputStream()) {
                    return new String(in.readNBytes(4096), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            if (!process.waitFor(VERSION_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return "it gave no --version within " + VERSION_TIMEOUT_SECONDS + " s";
            }
            String first = output.get(1, TimeUnit.SECONDS).lines().findFirst().orElse("").strip();
            return process.exitValue() == 0 && !first.isEmpty() ? first
                    : "--version answered exit code " + process.exitValue() + ": " + first;
        } catch (IOException | ExecutionException | TimeoutException e) {
            return "its --version could not be read: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "its --version was not read: interrupted";
        }
    }

    private static Optional<String> legacyChecksum(final ClassLoader loader, final String resource) throws IOException {
        try (InputStream in = loader.getResourceAsStream(LEGACY_CHECKSUMS)) {
            if (in == null) {
                return Optional.empty();
            }
            // sha256sum's format: "<hex>  <name>".
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .map(line -> line.trim().split("\\s+"))
                    .filter(fields -> fields.length == 2 && fields[1].equals(resource))
                    .map(fields -> fields[0]).findFirst();
        }
    }

    static String sha256(final byte[] bytes) {
        return HexFormat.of().formatHex(digest().digest(bytes));
    }

    static String sha256(final Path file) throws IOException {
        MessageDigest digest = digest();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    /** The provenance file build.sh writes next to the binary (a properties file). */
    record Provenance(String description, String redisVersion, String debianRevision, String sha256) {

        static Optional<Provenance> read(final ClassLoader loader, final String resource) throws IOException {
            URL url = loader.getResource(resource);
            if (url == null) {
                return Optional.empty();
            }
            Properties values = new Properties();
            try (InputStream in = url.openStream()) {
                values.load(new InputStreamReader(in, StandardCharsets.UTF_8));
            }
            String sha256 = values.getProperty("sha256", "");
            String description = values.getProperty("description", "");
            if (!sha256.matches("[0-9a-f]{64}") || description.isBlank()) {
                throw new IOException("The provenance " + url + " of the bundled redis-server records no valid sha256"
                        + " or description; rebuild it with tools/redis-server/build.sh");
            }
            return Optional.of(new Provenance(description, values.getProperty("redis.version", BUNDLED_VERSION),
                    values.getProperty("debian.revision", "unknown"), sha256));
        }
    }
}
