package io.compozy.cache.web.client;

import io.compozy.cache.api.CacheConnection;
import io.compozy.cache.api.CacheConnectionFactory;
import io.compozy.cache.api.StartFailure;
import jakarta.annotation.Resource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.resource.ResourceException;
import java.util.function.Function;
import javax.naming.InitialContext;
import javax.naming.NamingException;

/**
 * Opens a connection handle for one piece of work and gives it back, the way the Connectors contract
 * expects handles to be used. Failures become {@link CacheUnavailableException} with the adapter's reason.
 */
@ApplicationScoped
public class CacheConnections {

    /**
     * The product's own EAR binds this reference to the administrator's factory (its web.xml); another
     * application that reuses this class gets the ordinary one.
     */
    @Resource(name = FACTORY_REF, lookup = CacheConnectionFactory.JNDI_NAME)
    private CacheConnectionFactory factory;

    private static final String FACTORY_REF = "compozyCacheFactoryRef";

    public <T> T call(final Function<CacheConnection, T> work) {
        try (CacheConnection connection = factory().getConnection()) {
            return work.apply(connection);
        } catch (ResourceException e) {
            throw new CacheUnavailableException("The cache is not available: " + reason(e), e);
        }
    }

    private CacheConnectionFactory factory() {
        if (factory != null) {
            return factory;
        }
        try {
            return InitialContext.doLookup("java:comp/env/" + FACTORY_REF);
        } catch (NamingException e) {
            // Nothing is bound until the adapter is installed (the RAR is missing or still starting). A failed
            // start leaves it installed and bound: getConnection() then refuses with the reason.
            var reason = StartFailure.reason();
            if (reason.isPresent()) {
                throw new CacheUnavailableException("The cache is not available: Compozy cache did not start: "
                        + reason.get(), e);
            }
            throw new CacheUnavailableException("The cache is not available: the Compozy cache resource adapter"
                    + " has not started, so nothing is bound at " + CacheConnectionFactory.ADMIN_JNDI_NAME + " or "
                    + CacheConnectionFactory.JNDI_NAME
                    + ". The server log (messages.log) gives the reason on a line starting 'Compozy cache did not"
                    + " start:'", e);
        }
    }

    private static String reason(final ResourceException e) {
        Throwable cause = e;
        while (cause.getCause() != null && cause.getCause() != cause && cause.getMessage() == null) {
            cause = cause.getCause();
        }
        return cause.getMessage();
    }
}
