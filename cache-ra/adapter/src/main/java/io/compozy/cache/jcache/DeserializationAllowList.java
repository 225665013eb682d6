package io.compozy.cache.jcache;

import io.compozy.cache.config.JCacheSettings;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import java.io.IOException;
import java.io.InvalidClassException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.lang.management.ManagementFactory;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import org.redisson.codec.CustomObjectInputStream;

/**
 * The classes a JCache value may be read back as: a JEP 290 filter ({@link ObjectInputFilter}) on every
 * stream that reads a value, so a class outside the list is refused before an instance of it exists (its
 * static initializer never runs). Anyone who can write a hash field in the Redis (another application,
 * another client of a shared Redis, a restored RDB, an import source) otherwise has this JVM build any
 * serializable class on its class path. A JVM-wide {@code jdk.serialFilter} applies too: a class either
 * rejects is refused. One per adapter start; it counts what it refused (a JMX attribute, then a metric).
 */
public final class DeserializationAllowList implements DeserializationAllowListMXBean {

    /**
     * The JDK's value types: boxes, strings, enums and arrays of them, big numbers, java.time, the
     * collections (also the concurrent ones, atomics and the locks a ConcurrentHashMap writes) and URIs.
     * Not java.net.URL (its hashCode resolves host names), nor reflection, lambdas, proxies or anything
     * outside the JDK.
     */
    public static final String JDK_VALUE_TYPES = "java.lang.*;java.math.BigInteger;java.math.BigDecimal;java.time.*;"
            + "java.util.*;java.util.concurrent.*;java.util.concurrent.atomic.*;java.util.concurrent.locks.*;"
            + "java.net.URI";
    /** Distinct refused classes logged at WARNING; later ones are counted only (a flood must not fill the log). */
    private static final int LOGGED_CLASSES = 100;
    private static final Logger LOG = Logger.getLogger(DeserializationAllowList.class.getName());
    /** Where {@link #publish()} puts the counts. */
    public static final ObjectName OBJECT_NAME = objectName("io.compozy.cache:type=JCacheDeserialization");

    private final String patterns;
    private final ObjectInputFilter filter;
    private final AtomicLong rejected = new AtomicLong();
    private final Set<String> logged = ConcurrentHashMap.newKeySet();
    private volatile String lastRejectedClass = "";

    /**
     * @param allowed the operator's JEP 290 patterns ({@code ;}-separated, stripped and checked by
     *     {@link JCacheSettings}), applied before the JDK's value types; may be empty
     */
    public DeserializationAllowList(final String allowed) {
        this.patterns = (allowed.isEmpty() ? "" : allowed + ";") + JDK_VALUE_TYPES + ";!*";
        this.filter = ObjectInputFilter.Config.createFilter(patterns);
    }

    /**
     * Reads one serialized value with {@code classLoader}.
     *
     * @throws RefusedClassException naming the class (or the limit) the allow-list refused
     */
    Object read(final ByteBuf buf, final ClassLoader classLoader) throws IOException, ClassNotFoundException {
        try (ObjectInputStream in = new CustomObjectInputStream(classLoader, new ByteBufInputStream(buf))) {
            String[] refused = new String[1];
            ObjectInputFilter ours = info -> {
                ObjectInputFilter.Status status = filter.checkInput(info);
                if (status == ObjectInputFilter.Status.REJECTED && refused[0] == null) {
                    refused[0] = info.serialClass() != null ? info.serialClass().getName()
                            : "(a limit: depth " + info.depth() + ", references " + info.references() + ")";
                }
                return status;
            };
            ObjectInputFilter jvmWide = ObjectInputFilter.Config.getSerialFilter();
            in.setObjectInputFilter(jvmWide == null ? ours : ObjectInputFilter.merge(ours, jvmWide));
            try {
                return in.readObject();
            } catch (InvalidClassException e) {
                if (refused[0] == null) { // refused by the JVM-wide filter alone, or not a filter's refusal
                    throw e;
                }
                throw refuse(refused[0], e);
            }
        }
    }

    private RefusedClassException refuse(final String className, final InvalidClassException cause) {
        rejected.incrementAndGet();
        lastRejectedClass = className;
        RefusedClassException refused = new RefusedClassException(className, cause);
        if (logged.size() < LOGGED_CLASSES && logged.add(className)) {
            LOG.warning(refused.getMessage());
        }
        return refused;
    }

    /** Publishes the counts in JMX, replacing the bean a previous start of the adapter left. */
    public void publish() {
        try {
            MBeanServer jmx = ManagementFactory.getPlatformMBeanServer();
            if (jmx.isRegistered(OBJECT_NAME)) {
                jmx.unregisterMBean(OBJECT_NAME);
            }
            jmx.registerMBean(this, OBJECT_NAME);
        } catch (JMException e) {
            LOG.log(Level.WARNING, "The JCache deserialization counts are not in JMX (no metric for them)", e);
        }
    }

    /** Takes this allow-list's bean out of JMX (the adapter stops). */
    public void unpublish() {
        try {
            MBeanServer jmx = ManagementFactory.getPlatformMBeanServer();
            if (jmx.isRegistered(OBJECT_NAME)) {
                jmx.unregisterMBean(OBJECT_NAME);
            }
        } catch (JMException e) {
            LOG.log(Level.FINE, "unregistering the JCache deserialization bean", e);
        }
    }

    private static ObjectName objectName(final String name) {
        try {
            return new ObjectName(name);
        } catch (MalformedObjectNameException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public long getRejectedCount() {
        return rejected.get();
    }

    @Override
    public String getLastRejectedClass() {
        return lastRejectedClass;
    }

    @Override
    public String getPatterns() {
        return patterns;
    }

    /** A value whose class is not allowed: the {@code get} that read it fails with this as its cause. */
    public static final class RefusedClassException extends InvalidClassException {

        private static final long serialVersionUID = 1L;

        RefusedClassException(final String className, final InvalidClassException cause) {
            super("JCache refused to deserialize a value of class " + className + ": it is not in the allow-list ("
                    + JCacheSettings.ALLOWED_CLASSES + " adds an application's classes as"
                    + " JEP 290 patterns; docs/security.md)");
            initCause(cause);
        }
    }
}
