package io.compozy.cache.adapter;

import io.compozy.cache.api.CacheConnection;
import io.compozy.cache.api.CacheConnectionFactory;
import jakarta.resource.ResourceException;
import jakarta.resource.spi.ConnectionManager;
import javax.naming.InitialContext;
import javax.naming.NamingException;
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
        checkCaller();
        return (CacheConnection) connectionManager.allocateConnection(managedFactory, null);
    }

    /**
     * JNDI names are visible to every application on the server: an administrator factory limited to some
     * applications checks the caller's name, which the container gives (java:app/AppName), not the caller.
     */
    private void checkCaller() throws ResourceException {
        FactoryAccess access;
        try {
            access = managedFactory.access();
        } catch (IllegalArgumentException e) {
            throw new ResourceException("Compozy cache: " + e.getMessage(), e);
        }
        if (access.applications().isEmpty()) {
            return;
        }
        String caller;
        try {
            caller = InitialContext.doLookup("java:app/AppName");
        } catch (NamingException e) {
            throw new SecurityException("This Compozy cache connection factory serves only the applications "
                    + access.applications() + " (property " + FactoryAccess.APPLICATIONS + "), and the caller runs in"
                    + " no application", e);
        }
        if (!access.applications().contains(caller)) {
            throw new SecurityException("This Compozy cache connection factory serves only the applications "
                    + access.applications() + " (property " + FactoryAccess.APPLICATIONS + "), not '" + caller
                    + "'; use eis/compozy/cache or a factory of its own (docs/security.md)");
        }
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
