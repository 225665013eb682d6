package io.compozy.cache.web.workflow;

import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Optional;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Signed webhook deliveries: a workflow with a secret ({@value #SECRET_PREFIX}{@code <project>.<workflow>},
 * the secret itself or {@code file:/path}) takes a delivery only with
 * {@value #HEADER}{@code : sha256=<hex HMAC-SHA256 of the raw body>}, compared in constant time. Without a
 * secret the workflow takes deliveries as before (the API's login still applies).
 */
@ApplicationScoped
public class WebhookSignatures {

    /** The MicroProfile Config prefix of a workflow's webhook secret; never logged, never shown. */
    public static final String SECRET_PREFIX = "workflows.webhook_secret.";
    public static final String HEADER = "X-Compozy-Signature";
    private static final String SCHEME = "sha256=";

    private final Function<String, Optional<String>> config;

    /** The server's: secrets come from MicroProfile Config. */
    public WebhookSignatures() {
        this(key -> ConfigProvider.getConfig().getOptionalValue(key, String.class));
    }

    /** {@code config} maps a key to its value (a test's map). */
    public WebhookSignatures(final Function<String, Optional<String>> config) {
        this.config = config;
    }

    /**
     * Checks a delivery's signature when the workflow has a secret.
     *
     * @throws SignatureRefused saying what was missing or wrong (never the secret or the expected value)
     */
    public void check(final String project, final String workflow, final byte[] body, final String signature) {
        Optional<byte[]> secret = secret(project, workflow);
        if (secret.isEmpty()) {
            return;
        }
        if (signature == null || !signature.startsWith(SCHEME)) {
            throw new SignatureRefused("workflow '" + workflow + "' takes signed deliveries only: send " + HEADER
                    + ": " + SCHEME + "<hex HMAC-SHA256 of the body with the workflow's secret>");
        }
        byte[] sent;
        try {
            sent = HexFormat.of().parseHex(signature.substring(SCHEME.length()).trim());
        } catch (IllegalArgumentException e) {
            throw new SignatureRefused(HEADER + " is not " + SCHEME + "<hex>");
        }
        if (!MessageDigest.isEqual(hmac(secret.get(), body), sent)) {
            throw new SignatureRefused("the " + HEADER + " of this delivery does not match its body");
        }
    }

    /** HMAC-SHA256 of {@code body} with {@code secret}: what a sender puts, in hex, after "sha256=". */
    public static byte[] hmac(final byte[] secret, final byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return mac.doFinal(body);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    private Optional<byte[]> secret(final String project, final String workflow) {
        String key = SECRET_PREFIX + project + "." + workflow;
        return config.apply(key).filter(v -> !v.isBlank()).map(value -> {
            if (!value.startsWith("file:")) {
                return value.getBytes(StandardCharsets.UTF_8);
            }
            try {
                return Files.readString(Path.of(value.substring("file:".length()))).strip()
                        .getBytes(StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the webhook secret file of " + key, e);
            }
        });
    }

    /** A delivery whose signature is missing or wrong: 401, nothing started. */
    public static final class SignatureRefused extends RuntimeException {

        private static final long serialVersionUID = 1L;

        SignatureRefused(final String message) {
            super(message);
        }
    }
}
