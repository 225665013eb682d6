package io.compozy.cache.adapter;

import io.compozy.cache.api.CacheConnection;
import jakarta.resource.NotSupportedException;
import jakarta.resource.ResourceException;
import jakarta.resource.spi.ConnectionEvent;
import jakarta.resource.spi.ConnectionEventListener;
import jakarta.resource.spi.ConnectionRequestInfo;
import jakarta.resource.spi.LocalTransaction;
import jakarta.resource.spi.ManagedConnection;
import jakarta.resource.spi.ManagedConnectionMetaData;
import java.io.PrintWriter;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.security.auth.Subject;
import javax.transaction.xa.XAResource;

/**
 * A pooled "connection" of the JCA contract. It owns no socket: it hands out handles on the shared
 * RedissonClient (which pools its own connections), so pooling here costs nothing and a destroyed
 * managed connection never touches the client.
 */
final class CacheManagedConnection implements ManagedConnection {

    private final CacheManagedConnectionFactory factory;
    private final CacheBackend backend;
    private final FactoryClient client;
    private final Set<ConnectionHandle> handles = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final List<ConnectionEventListener> listeners = new CopyOnWriteArrayList<>();
    private volatile boolean destroyed;
    private PrintWriter logWriter;

    CacheManagedConnection(final CacheManagedConnectionFactory factory, final CacheBackend backend,
                           final FactoryClient client) {
        this.factory = factory;
        this.backend = backend;
        this.client = client;
    }

    @Override
    public Object getConnection(final Subject subject, final ConnectionRequestInfo info) throws ResourceException {
        if (destroyed) {
            throw new ResourceException("This managed connection was destroyed");
        }
        ConnectionHandle handle = new ConnectionHandle(this, backend, client);
        handles.add(handle);
        return handle.proxy();
    }

    /** The backend of a matched connection must still be the adapter's current one. */
    boolean isValid() {
        try {
            return !destroyed && factory.resourceAdapter().backend() == backend;
        } catch (ResourceException e) {
            return false;
        }
    }

    /** The JCache provider of the factory's namespace: the adapter's, or the prefixed factory's own. */
    io.compozy.cache.jcache.SharedCachingProvider jcache(final FactoryClient of) throws ResourceException {
        return factory.resourceAdapter().jcache(of);
    }

    /** Called by a handle's close(): tells the container the handle is back. */
    void handleClosed(final ConnectionHandle handle, final CacheConnection proxy) {
        handles.remove(handle);
        ConnectionEvent event = new ConnectionEvent(this, ConnectionEvent.CONNECTION_CLOSED);
        event.setConnectionHandle(proxy);
        for (ConnectionEventListener listener : listeners) {
            listener.connectionClosed(event);
        }
    }

    @Override
    public void associateConnection(final Object connection) throws ResourceException {
        if (!(connection instanceof CacheConnection)) {
            throw new ResourceException("Not a Compozy cache connection: " + connection);
        }
        ConnectionHandle handle = ConnectionHandle.of((CacheConnection) connection);
        handle.owner().handles.remove(handle);
        handle.reassign(this);
        handles.add(handle);
    }

    @Override
    public void cleanup() {
        for (ConnectionHandle handle : handles) {
            handle.invalidate();
        }
        handles.clear();
    }

    @Override
    public void destroy() {
        destroyed = true;
        cleanup();
    }

    @Override
    public void addConnectionEventListener(final ConnectionEventListener listener) {
        listeners.add(listener);
    }

    @Override
    public void removeConnectionEventListener(final ConnectionEventListener listener) {
        listeners.remove(listener);
    }

    @Override
    public XAResource getXAResource() throws ResourceException {
        throw new NotSupportedException("The Compozy cache does not take part in XA transactions");
    }

    @Override
    public LocalTransaction getLocalTransaction() throws ResourceException {
        throw new NotSupportedException("The Compozy cache does not take part in local transactions");
    }

    @Override
    public ManagedConnectionMetaData getMetaData() {
        var info = backend.info();
        return new ManagedConnectionMetaData() {
            @Override
            public String getEISProductName() {
                return "Redis";
            }

            @Override
            public String getEISProductVersion() {
                return info.redisVersion();
            }

            @Override
            public int getMaxConnections() {
                return 0; // no limit: every handle shares one client
            }

            @Override
            public String getUserName() {
                return null;
            }
        };
    }

    @Override
    public void setLogWriter(final PrintWriter out) {
        this.logWriter = out;
    }

    @Override
    public PrintWriter getLogWriter() {
        return logWriter;
    }
}
