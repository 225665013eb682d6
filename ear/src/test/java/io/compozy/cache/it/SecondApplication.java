package io.compozy.cache.it;

import io.compozy.cache.web.client.CacheClientProducer;
import io.compozy.cache.web.client.CacheConnections;
import io.compozy.cache.web.client.CacheUnavailableException;
import java.io.File;
import java.net.URISyntaxException;
import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.spec.WebArchive;

/**
 * The test archive: a separately deployed application, not part of the EAR, that reaches the cache
 * only through JNDI and the classloader setting any other application uses. It reuses the product's
 * CDI producer, so {@code @Inject RedissonClient} is exercised exactly as in the EAR.
 */
public final class SecondApplication {

    private SecondApplication() {
    }

    public static WebArchive archive(final Class<?>... testClasses) {
        return archive("second-app", testClasses);
    }

    /** The same, as an application of that name (two of them make two independent applications). */
    public static WebArchive archive(final String name, final Class<?>... testClasses) {
        return ShrinkWrap.create(WebArchive.class, name + ".war")
                .addClasses(CacheClientProducer.class, CacheConnections.class, CacheUnavailableException.class)
                .addClasses(testClasses)
                // Referenced only by @RunAsClient methods; present so the test class links in the server.
                .addClasses(io.compozy.cache.it.support.TestServer.class, io.compozy.cache.it.support.LibertyProcess.class)
                .addAsLibraries(jarOf(org.assertj.core.api.Assertions.class));
    }

    static File jarOf(final Class<?> type) {
        try {
            return new File(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
