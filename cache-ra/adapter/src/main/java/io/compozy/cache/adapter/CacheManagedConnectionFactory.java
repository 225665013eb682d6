package io.compozy.cache.adapter;

import jakarta.resource.ResourceException;
import jakarta.resource.spi.ConnectionManager;
import jakarta.resource.spi.ConnectionRequestInfo;
import jakarta.resource.spi.ManagedConnection;
import jakarta.resource.spi.ManagedConnectionFactory;
import jakarta.resource.spi.ResourceAdapter;
import jakarta.resource.spi.ResourceAdapterAssociation;
import java.io.PrintWriter;
import java.util.Objects;
import java.util.Set;
import javax.security.auth.Subject;

/**
 * One connection factory of server.xml: its properties ({@code <properties.compozyCache keyPrefix=... />}) say
 * what its applications may reach ({@link FactoryAccess}). Its managed connections are equivalent (they wrap
 * the factory's one client), so matching returns any candidate.
 */
public class CacheManagedConnectionFactory implements ManagedConnectionFactory, ResourceAdapterAssociation {

    private static final long serialVersionUID = 1L;

    private transient CacheResourceAdapter resourceAdapter;
    private transient PrintWriter logWriter;
    private String keyPrefix;
    private String redisUser;
    private String redisPassword;
    private Boolean administrator = Boolean.FALSE;
    private String applications;
    private transient volatile FactoryAccess access;

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
        CacheBackend backend = resourceAdapter().backend();
        try {
            return new CacheManagedConnection(this, backend, backend.clientFor(access()));
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new ResourceException("Compozy cache: " + e.getMessage(), e);
        }
    }

    /** What this factory's applications may reach; checked on first use, so a bad property names itself then. */
    FactoryAccess access() {
        FactoryAccess known = access;
        if (known == null) {
            known = FactoryAccess.of(keyPrefix, redisUser, redisPassword, administrator, applications);
            access = known;
        }
        return known;
    }

    public String getKeyPrefix() {
        return keyPrefix;
    }

    public void setKeyPrefix(final String keyPrefix) {
        this.keyPrefix = keyPrefix;
        this.access = null;
    }

    public String getRedisUser() {
        return redisUser;
    }

    public void setRedisUser(final String redisUser) {
        this.redisUser = redisUser;
        this.access = null;
    }

    public String getRedisPassword() {
        return redisPassword;
    }

    public void setRedisPassword(final String redisPassword) {
        this.redisPassword = redisPassword;
        this.access = null;
    }

    public Boolean getAdministrator() {
        return administrator;
    }

    public void setAdministrator(final Boolean administrator) {
        this.administrator = administrator;
        this.access = null;
    }

    public String getApplications() {
        return applications;
    }

    public void setApplications(final String applications) {
        this.applications = applications;
        this.access = null;
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

    /** Equal when their configuration properties are, as the Connectors contract asks. */
    @Override
    public boolean equals(final Object other) {
        return other instanceof CacheManagedConnectionFactory that && other.getClass() == getClass()
                && Objects.equals(keyPrefix, that.keyPrefix) && Objects.equals(redisUser, that.redisUser)
                && Objects.equals(redisPassword, that.redisPassword)
                && Objects.equals(administrator, that.administrator) && Objects.equals(applications, that.applications);
    }

    @Override
    public int hashCode() {
        return Objects.hash(getClass(), keyPrefix, redisUser, administrator, applications);
    }
}
