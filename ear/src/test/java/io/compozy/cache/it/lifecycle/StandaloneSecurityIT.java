package io.compozy.cache.it.lifecycle;

import static io.compozy.cache.it.support.Api.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.compozy.cache.it.support.ShippedServerPerTest;
import io.compozy.cache.it.support.AdminCredentials;
import io.compozy.cache.it.support.Api;
import io.compozy.cache.it.support.LibertyProcess;
import io.compozy.cache.it.support.TestServer;
import jakarta.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The locked doors of standalone mode on the shipped configuration, started without an administrator
 * password as an operator who skipped that step would: the embedded redis-server listens on loopback only
 * and refuses a client without its password, the snapshot store is private, and the administrative
 * endpoints refuse everyone (there is no default password to guess).
 */
@ExtendWith(ShippedServerPerTest.class)
class StandaloneSecurityIT {

    @TempDir
    Path dataDir;

    @AfterEach
    void restoreAdministrator() {
        adminDropin(true);
    }

    @Test
    void loopbackOnlyPasswordRequiredPrivateFilesAndNoDefaultAdministrator() throws Exception {
        adminDropin(false);
        Path snapshots = dataDir.resolve("snapshots");
        LibertyProcess.start(Map.of("REDIS_STANDALONE_PERSISTENCE_DATA_DIR", snapshots.toString()));
        JsonObject status = json(await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> Api.get("admin/status"), r -> r.statusCode() == 200));
        long pid = status.getJsonObject("backend").getJsonNumber("pid").longValue();
        int port = status.getJsonObject("backend").getInt("port");

        List<String> listening = listeningAddresses(pid);
        assertThat(listening).as("listening sockets of redis-server pid %d", pid)
                .containsExactly("127.0.0.1:" + port);
        assertThat(rawCommand(port, "PING")).startsWith("-NOAUTH");
        assertThat(rawCommand(port, "AUTH", "default", "guess")).startsWith("-WRONGPASS");

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(snapshots))).isEqualTo("rwx------");
        try (Stream<Path> files = Files.walk(snapshots)) {
            assertThat(files.filter(Files::isRegularFile).toList()).isNotEmpty().allSatisfy(file -> assertThat(
                    PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).as(file.toString())
                    .isEqualTo("rw-------"));
        }

        for (String path : List.of("admin/snapshots")) {
            assertThat(Api.send(Api.request(path).POST(HttpRequest.BodyPublishers.noBody())).statusCode())
                    .as("POST %s without a login", path).isEqualTo(401);
            assertThat(Api.get(path).statusCode()).as("GET %s without a login", path).isEqualTo(401);
            // The unset variable stays literal in the registry, so the container lets that one guess in and
            // the application refuses it (503 administration-disabled); every other guess is a wrong login.
            for (Map.Entry<String, Integer> guess : Map.of("${admin.password}", 503, "admin", 401, "", 401).entrySet()) {
                HttpResponse<String> answer = Api.send(Api.request(path)
                        .header("Authorization", basic("admin", guess.getKey())).POST(HttpRequest.BodyPublishers.noBody()));
                assertThat(answer.statusCode()).as("POST %s as admin/'%s': %s", path, guess.getKey(), answer.body())
                        .isEqualTo(guess.getValue());
            }
        }
        assertThat(Api.adminPost("admin/snapshots", "").statusCode())
                .as("this run's password is not configured in this server").isEqualTo(401);
        assertThat(Api.send(Api.request("events/workflows").header("Accept", "text/event-stream").GET()).statusCode())
                .as("every workflow's events without a login").isEqualTo(401);
        assertThat(Api.get("admin/status").body()).doesNotContain(AdminCredentials.password());
    }

    /** host:port of every TCP socket the process listens on, from its fds and /proc/net/tcp{,6}. */
    private static List<String> listeningAddresses(final long pid) throws IOException {
        Set<String> inodes = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds.toList()) {
                String target = Files.readSymbolicLink(fd).toString();
                if (target.startsWith("socket:[")) {
                    inodes.add(target.substring("socket:[".length(), target.length() - 1));
                }
            }
        }
        List<String> listening = new ArrayList<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            List<String> lines = Files.readAllLines(Path.of(table)); // read once: sockets come and go meanwhile
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (f[3].equals("0A") && inodes.contains(f[9])) { // 0A = LISTEN
                    listening.add(address(f[1]));
                }
            }
        }
        return listening;
    }

    /** /proc/net/tcp's "0100007F:1F90" as "127.0.0.1:8080"; IPv6 addresses are shown in hex. */
    private static String address(final String hex) {
        String[] parts = hex.split(":");
        int port = Integer.parseInt(parts[1], 16);
        if (parts[0].length() != 8) {
            return "[" + parts[0] + "]:" + port;
        }
        long ip = Long.parseLong(parts[0], 16);
        return (ip & 0xff) + "." + (ip >> 8 & 0xff) + "." + (ip >> 16 & 0xff) + "." + (ip >> 24 & 0xff) + ":" + port;
    }

    /** One RESP command over a plain socket, as any local process could send it; returns the first line. */
    private static String rawCommand(final int port, final String... command) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
            socket.setSoTimeout(5_000);
            StringBuilder resp = new StringBuilder("*" + command.length + "\r\n");
            for (String part : command) {
                resp.append('$').append(part.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(part)
                        .append("\r\n");
            }
            OutputStream out = socket.getOutputStream();
            out.write(resp.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = socket.getInputStream();
            StringBuilder line = new StringBuilder();
            for (int c = in.read(); c >= 0 && c != '\r'; c = in.read()) {
                line.append((char) c);
            }
            return line.toString();
        }
    }

    private static String basic(final String user, final String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    /** Hides or restores the harness's administrator dropin (the shipped config has none). */
    private static void adminDropin(final boolean present) {
        Path dropin = TestServer.serverDir().resolve("configDropins/overrides/it-admin.xml");
        Path aside = dropin.resolveSibling("it-admin.xml.aside");
        try {
            if (!present && Files.exists(dropin)) {
                Files.move(dropin, aside);
            } else if (present && Files.exists(aside)) {
                Files.move(aside, dropin);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
