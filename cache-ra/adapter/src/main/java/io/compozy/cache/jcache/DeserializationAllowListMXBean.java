package io.compozy.cache.jcache;

/**
 * JMX view of the JCache deserialization allow-list ({@code io.compozy.cache:type=JCacheDeserialization}):
 * the web application turns the count into {@code compozy_jcache_deserialization_rejected_total}.
 */
public interface DeserializationAllowListMXBean {

    /** Values refused since the adapter started. */
    long getRejectedCount();

    /** The class of the last refused value; empty before the first. */
    String getLastRejectedClass();

    /** The JEP 290 filter in force (the operator's patterns, the JDK's value types, then {@code !*}). */
    String getPatterns();
}
