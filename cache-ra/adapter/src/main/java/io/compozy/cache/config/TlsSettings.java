package io.compozy.cache.config;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.logging.Logger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.redisson.config.BaseConfig;
import org.redisson.config.SslVerificationMode;

/**
 * TLS to an external Redis, in redis.conf's vocabulary: the CA(s) to trust, the client certificate and
 * key to present, and whether the server's name is checked. Read and validated once at start (every
 * file is parsed then, so a wrong file fails the start naming its key); {@link #configure} applies it to
 * any Redisson topology (single server, Sentinel, Cluster), which all extend {@link BaseConfig}.
 *
 * <p>TLS itself is switched on by the address ({@code rediss://}); these keys say how it is checked.
 * {@link #toString()} names the files only: the key and its password never leave this object.
 */
public final class TlsSettings {

    public static final String CA_FILE = "redis.tls.ca_file";
    public static final String CERT_FILE = "redis.tls.cert_file";
    public static final String KEY_FILE = "redis.tls.key_file";
    public static final String KEY_PASSWORD = "redis.tls.key_password";
    public static final String VERIFY_HOSTNAME = "redis.tls.verify_hostname";

    static final String DEFAULT_VERIFY_HOSTNAME = "true";

    /** Connect and read timeout of {@link #handshakeProblem}: Redisson's connect timeout, enough on a loaded machine. */
    private static final int HANDSHAKE_TIMEOUT_MS = 5_000;
    private static final Logger LOG = Logger.getLogger(TlsSettings.class.getName());

    private final Optional<Path> caFile;
    private final Optional<Path> certFile;
    private final boolean verifyHostname;
    private final Optional<TrustManagerFactory> trust;
    private final Optional<KeyManagerFactory> identity;

    private TlsSettings(final Optional<Path> caFile, final Optional<Path> certFile, final boolean verifyHostname,
                        final Optional<TrustManagerFactory> trust, final Optional<KeyManagerFactory> identity) {
        this.caFile = caFile;
        this.certFile = certFile;
        this.verifyHostname = verifyHostname;
        this.trust = trust;
        this.identity = identity;
    }

    /** No CA file, no client certificate, names checked: the JVM's trust store, as a browser would. */
    public static TlsSettings defaults() {
        return new TlsSettings(Optional.empty(), Optional.empty(), true, Optional.empty(), Optional.empty());
    }

    /**
     * Reads the keys and the files they name.
     *
     * @throws InvalidConfigurationException for the first invalid key, naming it and the file, never key material
     */
    public static TlsSettings load(final ConfigLookup config) {
        boolean verifyHostname = switch (config.get(VERIFY_HOSTNAME).orElse(DEFAULT_VERIFY_HOSTNAME)
                .toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new InvalidConfigurationException(VERIFY_HOSTNAME, "'"
                    + config.get(VERIFY_HOSTNAME).orElseThrow() + "' is not a boolean; write true or false");
        };
        Optional<Path> caFile = config.get(CA_FILE).map(Path::of);
        Optional<Path> certFile = config.get(CERT_FILE).map(Path::of);
        Optional<Path> keyFile = config.get(KEY_FILE).map(Path::of);
        // Read raw: a password may start or end with a space.
        Optional<Secret> keyPassword = config.raw(KEY_PASSWORD).filter(p -> !p.isEmpty()).map(Secret::of);
        if (certFile.isPresent() != keyFile.isPresent()) {
            String missing = certFile.isPresent() ? KEY_FILE : CERT_FILE;
            String present = certFile.isPresent() ? CERT_FILE : KEY_FILE;
            throw new InvalidConfigurationException(missing, "it is required when " + present
                    + " is set: a client certificate goes with its private key");
        }
        if (keyPassword.isPresent() && keyFile.isEmpty()) {
            throw new InvalidConfigurationException(KEY_PASSWORD, "it is set but " + KEY_FILE
                    + " is not; it is the password of an encrypted client key");
        }
        Optional<TrustManagerFactory> trust = caFile.map(file -> trustManagers(PemFiles.certificates(CA_FILE, file)));
        Optional<KeyManagerFactory> identity = certFile.map(file -> {
            List<X509Certificate> chain = PemFiles.certificates(CERT_FILE, file);
            PrivateKey key = PemFiles.privateKey(KEY_FILE, keyFile.orElseThrow(), KEY_PASSWORD, keyPassword);
            if (!PemFiles.matches(key, chain.get(0))) {
                throw new InvalidConfigurationException(KEY_FILE, "the key in '" + keyFile.orElseThrow()
                        + "' does not match the certificate '" + chain.get(0).getSubjectX500Principal() + "' in '"
                        + file + "' (" + CERT_FILE + "); the first certificate of the file must be the key's own");
            }
            return keyManagers(chain, key);
        });
        return new TlsSettings(caFile, certFile, verifyHostname, trust, identity);
    }

    /** Whether anything differs from TLS's defaults (a CA file, a client certificate, names unchecked). */
    public boolean customized() {
        return caFile.isPresent() || certFile.isPresent() || !verifyHostname;
    }

    public boolean verifyHostname() {
        return verifyHostname;
    }

    public Optional<Path> caFile() {
        return caFile;
    }

    public Optional<Path> certFile() {
        return certFile;
    }

    /**
     * Applies these settings to a Redisson topology's configuration whose addresses are {@code rediss://}
     * (Redisson speaks plain Redis to {@code redis://} ones, so call it for TLS topologies only). Turning
     * name checks off is logged as a warning each time: it accepts any certificate the CA signed, for any host.
     */
    public <T extends BaseConfig<T>> T configure(final T config) {
        trust.ifPresent(config::setSslTrustManagerFactory);
        identity.ifPresent(config::setSslKeyManagerFactory);
        // CA_ONLY still checks the chain; Redisson's NONE would trust any certificate at all.
        config.setSslVerificationMode(verifyHostname ? SslVerificationMode.STRICT : SslVerificationMode.CA_ONLY);
        if (!verifyHostname) {
            LOG.warning(VERIFY_HOSTNAME + " is false: the Redis server's certificate is checked against the trusted"
                    + " CAs but not against the host name, so any server holding a certificate from those CAs is"
                    + " accepted. Use it only while fixing the server's certificate.");
        }
        return config;
    }

    /**
     * Refuses TLS keys on an address that does not use TLS: the operator meant TLS and would otherwise get
     * plain text without noticing.
     *
     * @param addressKey the key of the address, named in the error
     */
    public void requireTlsAddress(final String addressKey, final String address, final boolean tls) {
        if ((caFile.isPresent() || certFile.isPresent()) && !tls) {
            String set = caFile.isPresent() ? CA_FILE : CERT_FILE;
            throw new InvalidConfigurationException(addressKey, "'" + address + "' does not use TLS but " + set
                    + " is set; write rediss:// to connect with TLS, or unset the redis.tls.* keys");
        }
    }

    /**
     * Why a TLS connection to {@code host:port} fails with these settings, in the operator's terms, or empty
     * when it succeeds or fails for a reason that is not TLS's (nothing listens there: the caller's own
     * connect reports that). Opens one TLS connection and sends one PING over it.
     */
    public Optional<String> handshakeProblem(final String host, final int port) {
        try {
            try (SSLSocket socket = (SSLSocket) sslContext().getSocketFactory().createSocket()) {
                socket.connect(new InetSocketAddress(host, port), HANDSHAKE_TIMEOUT_MS);
                socket.setSoTimeout(HANDSHAKE_TIMEOUT_MS);
                SSLParameters parameters = socket.getSSLParameters();
                parameters.setEndpointIdentificationAlgorithm(verifyHostname ? "HTTPS" : null);
                socket.setSSLParameters(parameters);
                try {
                    socket.startHandshake();
                } catch (SocketTimeoutException e) {
                    // A plain Redis reads the ClientHello as the start of a command and waits for its end.
                    return Optional.of("no answer to the TLS handshake within " + HANDSHAKE_TIMEOUT_MS / 1000
                            + " s: is " + port + " the server's tls-port, not its plain port?");
                }
                // With TLS 1.3 the server checks the client's certificate after the handshake and answers with
                // an alert. A command makes a content server answer at once (NOAUTH or PONG), so the first
                // byte read is either the alert or that answer, with no wait.
                socket.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                socket.getInputStream().read();
                return Optional.empty();
            }
        } catch (SocketTimeoutException e) {
            return Optional.empty();
        } catch (SSLException e) {
            return Optional.of(reason(e, host));
        } catch (IOException | GeneralSecurityException e) {
            return Optional.empty(); // not a TLS problem: the caller's own message stands
        }
    }

    /**
     * The same trust and client certificate for a client that is not Redisson and takes an SSLContext or an
     * SSLSocketFactory (redis-replicator, for example). Such a client must set the endpoint identification
     * algorithm to {@code HTTPS} itself when {@link #verifyHostname()} is true.
     */
    public SSLContext sslContext() throws GeneralSecurityException {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(identity.map(KeyManagerFactory::getKeyManagers).orElse(null),
                trust.map(TrustManagerFactory::getTrustManagers).orElse(null), null);
        return context;
    }

    private String reason(final SSLException e, final String host) {
        String message = String.valueOf(e.getMessage());
        String trusted = caFile.map(file -> "the CAs in " + CA_FILE + " (" + file + ")")
                .orElse("the JVM's trust store (" + CA_FILE + " is not set)");
        if (message.contains("PKIX path") || message.contains("unable to find valid certification path")) {
            return "unknown CA: the server's certificate is not signed by " + trusted;
        }
        if (message.contains("No subject alternative") || message.contains("No name matching")) {
            return "hostname mismatch: the server's certificate does not name " + host + " (" + message
                    + "); connect with a name the certificate holds, or fix the certificate ("
                    + VERIFY_HOSTNAME + "=false skips this check)";
        }
        if (message.contains("certificate_required")) {
            return "the server requires a client certificate (tls-auth-clients yes): set " + CERT_FILE + " and "
                    + KEY_FILE;
        }
        if (message.contains("bad_certificate") || message.contains("unknown_ca")
                || message.contains("certificate_unknown")) {
            return certFile.isPresent()
                    ? "the server refused the client certificate in " + CERT_FILE + " (" + message
                            + "): its tls-ca-cert-file must hold the CA that signed it"
                    : "the server requires a client certificate (" + message + "): set " + CERT_FILE + " and "
                            + KEY_FILE;
        }
        if (message.contains("Unsupported or unrecognized SSL message") || message.contains("plaintext")) {
            return "the server does not speak TLS on this port (" + message + "); use redis:// for a plain port,"
                    + " or the server's tls-port";
        }
        if (message.contains("expired") || message.contains("validity")) {
            return "the server's certificate is not valid now (" + message + ")";
        }
        return message;
    }

    @Override
    public String toString() {
        return "TLS(ca_file=" + caFile.map(Path::toString).orElse("<JVM trust store>") + ", cert_file="
                + certFile.map(Path::toString).orElse("<none>") + ", verify_hostname=" + verifyHostname + ")";
    }

    private static TrustManagerFactory trustManagers(final List<X509Certificate> authorities) {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            for (int i = 0; i < authorities.size(); i++) {
                store.setCertificateEntry("ca-" + i, authorities.get(i));
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            return factory;
        } catch (GeneralSecurityException | IOException e) {
            throw new InvalidConfigurationException(CA_FILE, "its certificates cannot be trusted: " + e.getMessage());
        }
    }

    private static KeyManagerFactory keyManagers(final List<X509Certificate> chain, final PrivateKey key) {
        try {
            // The in-memory store needs a password; one nobody knows, used for this store only.
            byte[] random = new byte[24];
            new SecureRandom().nextBytes(random);
            char[] storePassword = Base64.getEncoder().encodeToString(random).toCharArray();
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("client", key, storePassword, chain.toArray(X509Certificate[]::new));
            KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            factory.init(store, storePassword);
            return factory;
        } catch (GeneralSecurityException | IOException e) {
            throw new InvalidConfigurationException(CERT_FILE, "the certificate and key cannot be used together: "
                    + e.getClass().getSimpleName());
        }
    }
}
