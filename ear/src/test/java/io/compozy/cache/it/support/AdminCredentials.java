package io.compozy.cache.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The administrator the shipped server.xml defines ({@code admin}, password from the {@code admin.password}
 * variable, which has no default). The harness makes up a password for each test run and hands it to the
 * server in a config dropin, the way an operator sets ADMIN_PASSWORD; nothing is committed.
 */
public final class AdminCredentials {

    public static final String USER = "admin";
    private static final String PASSWORD = newPassword();

    private AdminCredentials() {
    }

    public static String password() {
        return PASSWORD;
    }

    /** Adds HTTP Basic credentials of the administrator. */
    public static HttpRequest.Builder authorize(final HttpRequest.Builder request) {
        return request.header("Authorization", "Basic " + basicToken());
    }

    /** The administrator's HTTP Basic token (what follows "Basic "). */
    public static String basicToken() {
        return Base64.getEncoder().encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8));
    }

    /** Writes the dropin with this run's password (before the server starts). */
    static void writeDropin() {
        try {
            Files.createDirectories(dropin().getParent());
            Files.writeString(dropin(), "<server>\n  <variable name=\"admin.password\" value=\"" + PASSWORD
                    + "\"/>\n</server>\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void removeDropin() {
        try {
            Files.deleteIfExists(dropin());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path dropin() {
        return TestServer.serverDir().resolve("configDropins/overrides/it-admin.xml");
    }

    private static String newPassword() {
        byte[] bytes = new byte[24];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
