package io.compozy.cache.web.store;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.naming.InitialContext;
import javax.naming.NamingException;

/**
 * The threads the stores use in the server: a scheduler (lock renewal, watch re-sync, SSE keep-alive)
 * and an executor for delivering notifications to subscribers.
 *
 * <p>It takes the server's default managed executors when the {@code concurrent-3.0} feature provides
 * them; without it, it runs small pools of its own and shuts them down when the application stops, so
 * no thread outlives the bean. Stores never create threads themselves: their plain constructors take
 * these executors as parameters.
 */
@ApplicationScoped
public class StoreExecutors {

    private static final Logger LOG = Logger.getLogger(StoreExecutors.class.getName());

    static final String MANAGED_SCHEDULER = "java:comp/DefaultManagedScheduledExecutorService";
    static final String MANAGED_EXECUTOR = "java:comp/DefaultManagedExecutorService";

    private ScheduledExecutorService scheduler;
    private ExecutorService delivery;
    private boolean ownPools;

    /** The scheduler for periodic work; its tasks must be short. */
    public synchronized ScheduledExecutorService scheduler() {
        start();
        return scheduler;
    }

    /** The executor that runs notification delivery (a slow subscriber occupies one thread). */
    public synchronized ExecutorService delivery() {
        start();
        return delivery;
    }

    private void start() {
        if (scheduler != null) {
            return;
        }
        try {
            InitialContext context = new InitialContext();
            scheduler = (ScheduledExecutorService) context.lookup(MANAGED_SCHEDULER);
            delivery = (ExecutorService) context.lookup(MANAGED_EXECUTOR);
        } catch (NamingException | RuntimeException e) {
            LOG.log(Level.INFO, "No managed executors (enable the concurrent-3.0 feature to use them);"
                    + " the stores run their own pools, stopped with the application");
            scheduler = Executors.newScheduledThreadPool(2, daemonThreads("compozy-store-scheduler"));
            delivery = Executors.newCachedThreadPool(daemonThreads("compozy-store-delivery"));
            ownPools = true;
        }
    }

    @PreDestroy
    synchronized void stop() {
        // Managed executors belong to the server; only our own pools are ours to stop.
        if (ownPools) {
            scheduler.shutdownNow();
            delivery.shutdownNow();
        }
        scheduler = null;
        delivery = null;
        ownPools = false;
    }

    /** Named daemon threads, so a stray task can never keep a JVM alive. */
    public static ThreadFactory daemonThreads(final String name) {
        AtomicInteger counter = new AtomicInteger();
        return task -> {
            Thread thread = new Thread(task, name + "-" + counter.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
