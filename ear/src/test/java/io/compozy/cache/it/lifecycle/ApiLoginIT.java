package io.compozy.cache.it.lifecycle;

import static io.compozy.cache.it.support.Api.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import io.compozy.cache.it.support.AdminCredentials;
import io.compozy.cache.it.support.Api;
import io.compozy.cache.it.support.BackendModeListener;
import io.compozy.cache.it.support.LibertyProcess;
import io.compozy.cache.it.support.TestServer;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The REST API with {@code api.access=login} on the shipped configuration: MicroProfile JWT bearer tokens
 * signed with a key made for this run (the server reads its public half through the standard
 * {@code mp.jwt.verify.*} keys) and Basic logins, each role allowed and refused where docs/security.md says.
 */
class ApiLoginIT {

    private static final String ISSUER = "https://login.example/realms/compozy";
    private static final String AUDIENCE = "compozy-cache";

    @TempDir
    Path keys;

    private RSAKey signingKey;
    private Map<String, String> environment;

    @BeforeEach
    void keyForThisRun() throws Exception {
        BackendModeListener.removeDropin();
        signingKey = new RSAKeyGenerator(2048).keyID(UUID.randomUUID().toString()).generate();
        Path publicKey = keys.resolve("issuer-public.pem");
        Files.writeString(publicKey, "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(signingKey.toRSAPublicKey().getEncoded())
                + "\n-----END PUBLIC KEY-----\n");
        environment = Map.of("API_ACCESS", "login", "MP_JWT_VERIFY_ISSUER", ISSUER,
                "MP_JWT_VERIFY_AUDIENCES", AUDIENCE, "MP_JWT_VERIFY_PUBLICKEY_LOCATION", publicKey.toString());
    }

    @AfterEach
    void stopAndForgetTheBindings() {
        if (LibertyProcess.jvmPid().flatMap(ProcessHandle::of).isPresent()) {
            LibertyProcess.stop();
        }
        LibertyProcess.cleanNextStart(); // the next test's server starts with the shipped (open) bindings
    }

    @Test
    void eachRoleIsAllowedWhereItShouldBeAndEveryBadTokenIs401WithoutReachingTheLogs() throws Exception {
        LibertyProcess.cleanNextStart();
        LibertyProcess.start(environment);
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> LibertyProcess.get("/health/ready").statusCode() == 200);
        String reader = token(List.of("reader"));
        String writer = token(List.of("writer"));
        String admin = token(List.of("admin"));
        String resource = "resources/login-it/agent/a";

        assertThat(Api.get(resource).statusCode()).as("no login").isEqualTo(401);
        assertThat(Api.put(resource, "{}").statusCode()).as("no login").isEqualTo(401);
        HttpResponse<String> written = send("PUT", resource, writer);
        assertThat(written.statusCode()).as("writer writes: %s", written.body()).isEqualTo(200);
        assertThat(send("GET", resource, reader).statusCode()).as("reader reads").isEqualTo(200);
        assertThat(send("PUT", resource, reader).statusCode()).as("reader writes").isEqualTo(403);
        assertThat(send("DELETE", resource, reader).statusCode()).as("reader deletes").isEqualTo(403);
        assertThat(send("GET", resource, writer).statusCode()).as("writer reads").isEqualTo(200);
        assertThat(send("GET", "task-configs", reader).statusCode()).as("reader lists executions").isEqualTo(200);
        for (String notAdmin : List.of(reader, writer)) {
            assertThat(send("POST", "admin/snapshots", notAdmin).statusCode()).as("snapshot").isEqualTo(403);
            assertThat(send("GET", "admin/snapshots", notAdmin).statusCode()).as("list snapshots").isEqualTo(403);
        }
        HttpResponse<String> snapshot = send("POST", "admin/snapshots", admin);
        assertThat(snapshot.statusCode()).as(snapshot.body()).isEqualTo(201);
        long generation = json(snapshot).getJsonNumber("generation").longValue();
        assertThat(send("GET", "admin/snapshots", admin).statusCode()).isEqualTo(200);
        assertThat(send("PUT", resource, admin).statusCode()).as("admin writes").isEqualTo(200);
        // Basic against the registry: the server.xml administrator.
        assertThat(Api.adminGet("admin/snapshots").statusCode()).as("Basic administrator").isEqualTo(200);

        // A token that names its projects reaches those projects only, and no endpoint not kept by project.
        String alpha = token(List.of("writer"), List.of("login-alpha"));
        assertThat(send("PUT", "resources/login-alpha/agent/a", alpha).statusCode()).as("its project").isEqualTo(200);
        HttpResponse<String> otherProject = send("PUT", "resources/login-beta/agent/a", alpha);
        assertThat(otherProject.statusCode()).as(otherProject.body()).isEqualTo(403);
        assertThat(otherProject.body()).contains("project-forbidden", "login-beta");
        assertThat(send("GET", "resources/login-beta/agent/a", alpha).statusCode()).isEqualTo(403);
        assertThat(send("GET", "task-configs", alpha).body()).as("every execution's task configs")
                .contains("not-project-scoped");
        String bundle = "{\"workflows\":{\"w\":{\"tasks\":[{\"id\":\"a\",\"kind\":\"agent\"}]}}}";
        for (String project : List.of("login-alpha", "login-beta")) {
            assertThat(post("workflows/" + project, writer, bundle).statusCode() / 100).isEqualTo(2);
        }
        String own = json(post("workflows/login-alpha/w/executions", alpha, "{\"input\":\"hi\"}"))
                .getString("executionId");
        String foreign = json(post("workflows/login-beta/w/executions", writer, "{\"input\":\"hi\"}"))
                .getString("executionId");
        assertThat(post("workflows/login-beta/w/executions", alpha, "{}").statusCode()).isEqualTo(403);
        assertThat(send("GET", "executions/" + own, alpha).statusCode()).as("its project's execution").isEqualTo(200);
        assertThat(send("GET", "executions/" + foreign, alpha).statusCode()).as("another project's execution")
                .isEqualTo(403);
        assertThat(send("GET", "executions/" + foreign, writer).statusCode()).as("a token without the claim")
                .isEqualTo(200);

        Map<String, String> refused = new LinkedHashMap<>();
        refused.put("expired", token(List.of("admin"), ISSUER, AUDIENCE, Instant.now().minus(Duration.ofHours(1)),
                signingKey));
        refused.put("wrong issuer", token(List.of("admin"), "https://other.example", AUDIENCE, later(), signingKey));
        refused.put("wrong audience", token(List.of("admin"), ISSUER, "another-service", later(), signingKey));
        refused.put("wrong signature", token(List.of("admin"), ISSUER, AUDIENCE, later(),
                new RSAKeyGenerator(2048).generate()));
        refused.put("alg none", new PlainJWT(claims(List.of("admin"), ISSUER, AUDIENCE, later())).serialize());
        refused.put("not a JWT", "not-a-token");
        for (Map.Entry<String, String> bad : refused.entrySet()) {
            for (String path : List.of(resource, "admin/snapshots")) {
                assertThat(send("GET", path, bad.getValue()).statusCode()).as(bad.getKey() + " on " + path)
                        .isEqualTo(401);
            }
        }

        String messages = LibertyProcess.messages();
        assertThat(messages).as("one audit line per admin call, with the user and the address")
                .contains("admin call: POST /api/admin/snapshots by alice from 127.0.0.1: 201")
                .contains("admin call: GET /api/admin/snapshots by admin from 127.0.0.1: 200");
        List<String> secrets = new ArrayList<>(List.of(reader, writer, admin, AdminCredentials.password()));
        // Signed with the issuer's key, so usable elsewhere (another audience, a clock that is wrong).
        secrets.addAll(List.of(refused.get("expired"), refused.get("wrong issuer"), refused.get("wrong audience")));
        for (Path log : logs()) {
            String text = Files.readString(log);
            for (String secret : secrets) {
                // A token's signature is what makes it usable: none may be written anywhere.
                String signature = secret.contains(".") ? secret.substring(secret.lastIndexOf('.') + 1) : secret;
                if (!signature.isEmpty()) {
                    assertThat(text).as("a token or password in " + log.getFileName()).doesNotContain(signature);
                }
            }
        }
        assertThat(generation).isPositive();
    }

    /**
     * Liberty keeps an application's role bindings from its previous start: switched to login without
     * {@code --clean}, the open bindings still let requests without a login through, and the API refuses them.
     */
    @Test
    void switchedToLoginWithTheOpenBindingsStillInForceTheApiRefusesToServe() {
        LibertyProcess.cleanNextStart();
        LibertyProcess.start(Map.of()); // the shipped api.access=open
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> Api.get("admin/status").statusCode() == 200);
        LibertyProcess.stop();

        LibertyProcess.start(environment);
        HttpResponse<String> stale = await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> Api.get("resources/login-it/agent/a"), r -> r.statusCode() != 404);
        assertThat(stale.statusCode()).as(stale.body()).isEqualTo(503);
        assertThat(json(stale).getString("detail")).contains("api.access=login", "--clean");
    }

    private HttpResponse<String> send(final String method, final String path, final String bearer) {
        HttpRequest.Builder request = Api.request(path).header("Authorization", "Bearer " + bearer);
        return Api.send(switch (method) {
            case "PUT" -> request.header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString("{\"by\":\"token\"}"));
            case "POST" -> request.POST(HttpRequest.BodyPublishers.noBody());
            case "DELETE" -> request.DELETE();
            default -> request.GET();
        });
    }

    private String token(final List<String> groups) throws Exception {
        return token(groups, ISSUER, AUDIENCE, later(), signingKey);
    }

    private String token(final List<String> groups, final List<String> projects) throws Exception {
        JWTClaimsSet claims = new JWTClaimsSet.Builder(claims(groups, ISSUER, AUDIENCE, later()))
                .claim("projects", projects).build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).type(JOSEObjectType.JWT)
                .keyID(signingKey.getKeyID()).build(), claims);
        jwt.sign(new RSASSASigner(signingKey));
        return jwt.serialize();
    }

    private HttpResponse<String> post(final String path, final String bearer, final String json) {
        return Api.send(Api.request(path).header("Authorization", "Bearer " + bearer)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    private static String token(final List<String> groups, final String issuer, final String audience,
                                final Instant expires, final RSAKey key) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).type(JOSEObjectType.JWT)
                .keyID(key.getKeyID()).build(), claims(groups, issuer, audience, expires));
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    private static JWTClaimsSet claims(final List<String> groups, final String issuer, final String audience,
                                       final Instant expires) {
        Instant issued = expires.isBefore(Instant.now()) ? expires.minus(Duration.ofMinutes(10)) : Instant.now();
        return new JWTClaimsSet.Builder().issuer(issuer).audience(audience).subject("alice").claim("upn", "alice")
                .claim("groups", groups).issueTime(Date.from(issued)).expirationTime(Date.from(expires))
                .jwtID(UUID.randomUUID().toString()).build();
    }

    private static Instant later() {
        return Instant.now().plus(Duration.ofMinutes(10));
    }

    private static List<Path> logs() throws Exception {
        try (Stream<Path> files = Files.walk(TestServer.serverDir().resolve("logs"))) {
            return files.filter(Files::isRegularFile).toList();
        }
    }
}
