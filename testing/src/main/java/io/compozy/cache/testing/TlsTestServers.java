package io.compozy.cache.testing;

/**
 * The TLS set-up the suites share: a fresh private CA ({@link #pki()}) and two TLS-only redis-servers
 * whose certificates it signed: {@link #mutual()} requires client certificates ({@code tls-auth-clients
 * yes}) and presents a certificate for 127.0.0.1 and localhost; {@link #wrongName()} presents one for
 * {@value TestCertificates#WRONG_HOST} and does not ask for client certificates. Close it to stop both.
 */
public final class TlsTestServers implements AutoCloseable {

    private final TestCertificates pki;
    private final TlsRedisServer mutual;
    private final TlsRedisServer wrongName;

    private TlsTestServers(final TestCertificates pki, final TlsRedisServer mutual, final TlsRedisServer wrongName) {
        this.pki = pki;
        this.mutual = mutual;
        this.wrongName = wrongName;
    }

    public static TlsTestServers start() {
        TestCertificates pki = TestCertificates.generate();
        TlsRedisServer mutual = TlsRedisServer.start(pki.serverCert(), pki.serverKey(), pki.caFile(), true);
        try {
            return new TlsTestServers(pki, mutual,
                    TlsRedisServer.start(pki.wrongHostCert(), pki.wrongHostKey(), pki.caFile(), false));
        } catch (RuntimeException e) {
            mutual.close();
            throw e;
        }
    }

    public TestCertificates pki() {
        return pki;
    }

    public TlsRedisServer mutual() {
        return mutual;
    }

    public TlsRedisServer wrongName() {
        return wrongName;
    }

    @Override
    public void close() {
        try {
            mutual.close();
        } finally {
            wrongName.close();
        }
    }
}
