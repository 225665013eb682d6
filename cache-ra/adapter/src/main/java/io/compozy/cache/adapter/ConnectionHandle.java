package io.compozy.cache.adapter;

import io.compozy.cache.api.BackendInfo;
import io.compozy.cache.api.CacheConnection;
import io.compozy.cache.api.Persistence;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Optional;

/**
 * The application's handle: a {@link CacheConnection} proxy that forwards every {@code RedissonClient}
 * call to the shared client, refuses {@code shutdown}, and stops working once closed. A dynamic proxy
 * keeps this class small and correct for every method Redisson adds in later versions.
 */
final class ConnectionHandle implements InvocationHandler {

    private volatile CacheManagedConnection owner;
    private final CacheBackend backend;
    private final FactoryClient client;
    private final CacheConnection proxy;
    private volatile boolean closed;

    ConnectionHandle(final CacheManagedConnection owner, final CacheBackend backend, final FactoryClient client) {
        this.owner = owner;
        this.backend = backend;
        this.client = client;
        this.proxy = (CacheConnection) Proxy.newProxyInstance(CacheConnection.class.getClassLoader(),
                new Class<?>[] {CacheConnection.class}, this);
    }

    static ConnectionHandle of(final CacheConnection connection) {
        return (ConnectionHandle) Proxy.getInvocationHandler(connection);
    }

    CacheConnection proxy() {
        return proxy;
    }

    CacheManagedConnection owner() {
        return owner;
    }

    void reassign(final CacheManagedConnection newOwner) {
        this.owner = newOwner;
    }

    /** The container cleaned the managed connection up: this handle is done. */
    void invalidate() {
        closed = true;
    }

    @Override
    public Object invoke(final Object self, final Method method, final Object[] args) throws Throwable {
        String name = method.getName();
        if (method.getDeclaringClass() == Object.class) {
            return switch (name) {
                case "equals" -> self == args[0];
                case "hashCode" -> System.identityHashCode(self);
                default -> "CacheConnection[" + backend.info().mode() + ", " + (closed ? "closed" : "open") + "]";
            };
        }
        switch (name) {
            case "close":
                if (!closed) {
                    closed = true;
                    owner.handleClosed(this, proxy);
                }
                return null;
            case "shutdown":
                throw SharedClientGuard.shutdownRefused();
            case "isShutdown":
            case "isShuttingDown":
                return method.invoke(client.client(), args);
            default:
                break;
        }
        if (closed) {
            throw new IllegalStateException("This Compozy cache connection is closed; get a new one from "
                    + "eis/compozy/cache");
        }
        if (method.getDeclaringClass() == CacheConnection.class) {
            return switch (name) {
                case "backend" -> backendInfo();
                case "persistence" -> persistence();
                case "sharedClient" -> client.guarded();
                case "cacheManager" -> owner.jcache(client).managerFor(Thread.currentThread().getContextClassLoader());
                case "topology" -> backend.topologyInfo();
                default -> backend.ping();
            };
        }
        try {
            return method.invoke(client.client(), args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** Snapshots, RDB downloads and restores replace every application's data: the administrator's factory only. */
    private Optional<Persistence> persistence() {
        if (!client.access().administrator()) {
            throw new SecurityException("persistence() (snapshots, RDB download and upload, restore) is for the"
                    + " administrator's connection factory only (property " + FactoryAccess.ADMINISTRATOR + "=true);"
                    + " this is a " + client.access().describe());
        }
        return backend.persistence().map(Persistence.class::cast);
    }

    private BackendInfo backendInfo() {
        return backend.info();
    }
}
