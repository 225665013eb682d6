package io.compozy.cache.adapter;

import jakarta.resource.ResourceException;
import jakarta.resource.spi.ConnectionManager;
import jakarta.resource.spi.ConnectionRequestInfo;
import jakarta.resource.spi.ManagedConnection;
import jakarta.resource.spi.ManagedConnectionFactory;
import jakarta.resource.spi.ResourceAdapter;
import jakarta.resource.spi.ResourceAdapterAssociation;
import java.io.PrintWriter;
import java.util.Set;
import javax.security.auth.Subject;

/**
 * Creates managed connections on the adapter's shared backend. All managed connections are
 * equivalent (they wrap the same client), so matching returns any candidate.
 */
public class CacheManagedConnectionFactory implements ManagedConnectionFactory, ResourceAdapterAssociation {

    private static final long serialVersionUID = 1L;

    private transient CacheResourceAdapter resourceAdapter;
    private transient PrintWriter logWriter;

    @Override
    public Object createConnectionFactory(final ConnectionManager connectionManager) {
        return new CacheConnectionFactoryImpl(this, connectionManager);
    }

    @Override
    public Object createConnectionFactory() throws ResourceException {
        throw new jakarta.resource.NotSupportedException(
                "The Compozy cache runs inside an application server only; look it up at eis/compozy/cache");
    }

    @Override
    public ManagedConnection createManagedConnection(final Subject subject, final ConnectionRequestInfo info)
            throws ResourceException {
        return new CacheManagedConnection(this, resourceAdapter().backend());
    }

    @Override
    @SuppressWarnings("rawtypes")
    public ManagedConnection matchManagedConnections(final Set connections, final Subject subject,
                                                     final ConnectionRequestInfo info) {
        for (Object candidate : connections) {
            if (candidate instanceof CacheManagedConnection managed && managed.isValid()) {
                return managed;
            }
        }
        return null;
    }

    @Override
    public void setLogWriter(final PrintWriter out) {
        this.logWriter = out;
    }

    @Override
    public PrintWriter getLogWriter() {
        return logWriter;
    }

    @Override
    public ResourceAdapter getResourceAdapter() {
        return resourceAdapter;
    }

    @Override
    public void setResourceAdapter(final ResourceAdapter adapter) {
        this.resourceAdapter = (CacheResourceAdapter) adapter;
    }

    CacheResourceAdapter resourceAdapter() throws ResourceException {
        if (resourceAdapter == null) {
            throw new ResourceException("The connection factory is not associated with the Compozy cache adapter");
        }
        return resourceAdapter;
    }

    /** Equal when their configuration properties are: this factory has none, so equal by class. */
    @Override
    public boolean equals(final Object other) {
        return other != null && other.getClass() == getClass();
    }

    @Override
    public int hashCode() {
        return getClass().hashCode();
    }
}
