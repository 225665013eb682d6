package io.compozy.cache.adapter;

import io.compozy.cache.api.CacheConnection;
import io.compozy.cache.api.CacheConnectionFactory;
import jakarta.resource.ResourceException;
import jakarta.resource.spi.ConnectionManager;
import javax.naming.Reference;

/** What JNDI hands applications at eis/compozy/cache. */
final class CacheConnectionFactoryImpl implements CacheConnectionFactory {

    private static final long serialVersionUID = 1L;

    private final CacheManagedConnectionFactory managedFactory;
    private final transient ConnectionManager connectionManager;
    private Reference reference;

    CacheConnectionFactoryImpl(final CacheManagedConnectionFactory managedFactory,
                               final ConnectionManager connectionManager) {
        this.managedFactory = managedFactory;
        this.connectionManager = connectionManager;
    }

    /**
     * An adapter that did not start (or has stopped) refuses here, with its reason, before the container's
     * pool is asked: the pool would record an FFDC incident for every refused request.
     */
    @Override
    public CacheConnection getConnection() throws ResourceException {
        managedFactory.resourceAdapter().backend();
        return (CacheConnection) connectionManager.allocateConnection(managedFactory, null);
    }

    @Override
    public void setReference(final Reference reference) {
        this.reference = reference;
    }

    @Override
    public Reference getReference() {
        return reference;
    }
}
