/**
 * Configuration: the spec's mode resolver and the typed settings the adapter reads once, at start,
 * from MicroProfile Config (server.xml variables, environment variables, system properties).
 * Every validation error names the key, the problem and the allowed values, never a secret.
 */
package io.compozy.cache.config;
