package io.compozy.cache.adapter;

import io.compozy.cache.api.StartFailure;
import io.compozy.cache.config.CacheSettings;
import io.compozy.cache.config.ConfigLookup;
import io.compozy.cache.config.ImportSettings;
import io.compozy.cache.config.InvalidConfigurationException;
import io.compozy.cache.config.JCacheSettings;
import io.compozy.cache.jcache.LibraryRegistration;
import io.compozy.cache.jcache.SharedCachingProvider;
import jakarta.resource.ResourceException;
import jakarta.resource.spi.ActivationSpec;
import jakarta.resource.spi.BootstrapContext;
import jakarta.resource.spi.ResourceAdapter;
import jakarta.resource.spi.endpoint.MessageEndpointFactory;
import java.util.concurrent.Executor;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.transaction.xa.XAResource;

/**
 * Owns the cache backend: reads the configuration from MicroProfile Config, starts the embedded
 * redis-server or connects to the external Redis, and builds the one RedissonClient that every
 * connection factory of this adapter hands out. Outbound only, {@code NoTransaction}.
 */
public class CacheResourceAdapter implements ResourceAdapter, java.io.Serializable {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = Logger.getLogger(CacheResourceAdapter.class.getName());

    private transient volatile CacheBackend backend;
    private transient volatile SharedCachingProvider jcache;
    private transient volatile JCacheSettings jcacheSettings;
    private transient volatile String startFailure = "the Compozy cache resource adapter has not started";

    /**
     * Starts the backend and the declared JCache caches, once. A failure is recorded, not thrown: the adapter
     * stays installed without a backend and every connection refuses with the reason ({@link #backend()}).
     * Liberty calls a start that threw again at every lookup of the connection factory, each time a whole start
     * (store, redis-server, import), and deploys the application only after those: a start that failed slowly
     * left Liberty's 404 page where the 503 naming the reason belongs. Fixing the cause takes a server restart,
     * as for any configuration change.
     */
    @Override
    public void start(final BootstrapContext context) {
        CacheBackend started = null;
        try {
            ConfigLookup config = ConfigLookup.microProfile(getClass().getClassLoader());
            CacheSettings settings = CacheSettings.load(config);
            ImportSettings imports = ImportSettings.load(config, settings.mode(), settings.standalone().persistence());
            JCacheSettings jcacheSettings = JCacheSettings.load(config);
            started = CacheBackend.start(settings, imports, outputPumpThread());
            jcache = startJCache(started, jcacheSettings);
            this.jcacheSettings = jcacheSettings;
            backend = started;
            StartFailure.record(null);
            var info = started.info();
            String persistence = started.persistence().isPresent() ? "on" : "off";
            LOG.info(() -> "Compozy cache started: mode=" + info.mode() + ", backend=" + info.kind() + " Redis "
                    + info.redisVersion() + " at " + info.host() + ":" + info.port() + "/" + info.database()
                    + (info.embedded() ? " (" + info.redisBinary() + ", pid " + info.processId()
                            + ", loopback only, password generated)" : "")
                    + ", persistence=" + persistence);
        } catch (RuntimeException | Error e) {
            // Whatever failed after the backend started: its redis-server, JE lock and threads go with it.
            backend = null;
            stopJCache();
            if (started != null) {
                closeAfterFailedStart(started, e);
            }
            failed(e);
            if (e instanceof VirtualMachineError fatal) {
                throw fatal;
            }
        }
    }

    /** Records why the start failed, where the status endpoint, readiness, sessions and messages.log find it. */
    private void failed(final Throwable e) {
        String reason = reason(e);
        startFailure = "Compozy cache did not start: " + reason;
        StartFailure.record(reason);
        LibraryRegistration.failed(reason);
        if (e instanceof InvalidConfigurationException || e instanceof CacheBackend.BackendStartException) {
            LOG.severe(startFailure); // the message says it all (key, address, file), never a secret
        } else {
            LOG.log(Level.SEVERE, startFailure, e); // not foreseen: the stack trace is for a bug report
        }
    }

    /** The operator's reason: the message of a foreseen failure, else what failed and the exception. */
    private static String reason(final Throwable e) {
        if (e instanceof InvalidConfigurationException || e instanceof CacheBackend.BackendStartException) {
            return e.getMessage();
        }
        if (e instanceof JCacheStartException) {
            return "JCache: the caches declared in " + JCacheSettings.CACHES + " could not be created: " + e.getCause();
        }
        return "unexpected failure: " + e;
    }

    private static void closeAfterFailedStart(final CacheBackend started, final Throwable failure) {
        try {
            started.close();
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
            LOG.log(Level.WARNING, "Closing the backend after the failed start failed too", e);
        }
    }

    @Override
    public void stop() {
        CacheBackend current = backend;
        backend = null;
        startFailure = "the Compozy cache resource adapter has stopped";
        stopJCache();
        if (current != null) {
            current.close();
            LOG.info("Compozy cache stopped");
        }
    }

    /** JCache on the shared client; the declared caches are checked here, before anything is handed out. */
    private static SharedCachingProvider startJCache(final CacheBackend started, final JCacheSettings settings) {
        SharedCachingProvider provider = new SharedCachingProvider(started.client(), settings);
        try {
            provider.getCacheManager(); // the declared caches exist from the start
        } catch (RuntimeException e) {
            provider.close(); // the managers and caches created before the one that failed
            throw new JCacheStartException(e);
        }
        provider.allowList().publish();
        boolean library = LibraryRegistration.register(provider);
        LOG.info(() -> "JCache on the shared client: " + settings.caches().size() + " declared cache(s)"
                + (library ? ", provider library shared (sessionCache-1.0 can use it)" : ""));
        return provider;
    }

    private void stopJCache() {
        SharedCachingProvider provider = jcache;
        jcache = null;
        if (provider != null) {
            LibraryRegistration.unregister(provider);
            provider.close();
            provider.allowList().unpublish();
        }
    }

    /** The JCache provider on the running backend's client. */
    SharedCachingProvider jcache() throws ResourceException {
        SharedCachingProvider provider = jcache;
        if (provider == null) {
            throw new ResourceException(startFailure);
        }
        return provider;
    }

    /** The JCache of a factory's namespace: the adapter's caches, or a prefixed factory's own (under its prefix). */
    SharedCachingProvider jcache(final FactoryClient of) throws ResourceException {
        SharedCachingProvider shared = jcache();
        if (of.keyPrefix().isEmpty()) {
            return shared;
        }
        return of.jcache(() -> new SharedCachingProvider(of.client(), jcacheSettings, shared.allowList()));
    }

    /**
     * The running backend.
     *
     * @throws ResourceException saying why there is none (invalid configuration, unreachable Redis, stopped)
     */
    CacheBackend backend() throws ResourceException {
        CacheBackend current = backend;
        if (current == null) {
            throw new ResourceException(startFailure);
        }
        return current;
    }

    @Override
    public void endpointActivation(final MessageEndpointFactory factory, final ActivationSpec spec)
            throws ResourceException {
        throw new jakarta.resource.NotSupportedException("The Compozy cache adapter has no inbound messaging");
    }

    @Override
    public void endpointDeactivation(final MessageEndpointFactory factory, final ActivationSpec spec) {
        // Outbound only: nothing was activated.
    }

    @Override
    public XAResource[] getXAResources(final ActivationSpec[] specs) {
        return new XAResource[0];
    }

    /** The adapter has no configuration properties of its own (MicroProfile Config holds them). */
    @Override
    public boolean equals(final Object other) {
        return other != null && other.getClass() == getClass();
    }

    @Override
    public int hashCode() {
        return getClass().hashCode();
    }

    /**
     * The redis-server output pump reads until the process exits, which happens only when this adapter stops.
     * It runs on a daemon thread of its own, not as WorkManager work: Liberty's quiesce at server stop waits
     * (30 s, then CWWKE1107W) for work in its executor to finish, and it stops adapters only after that.
     */
    private static Executor outputPumpThread() {
        return task -> {
            Thread thread = new Thread(task, "compozy-cache-redis-output");
            thread.setDaemon(true);
            thread.start();
        };
    }

    /** Creating the declared JCache caches failed on a backend that had started. */
    private static final class JCacheStartException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        JCacheStartException(final RuntimeException cause) {
            super(cause);
        }
    }
}
