package io.compozy.cache.jcache;

import java.io.Serializable;

/** A value class of "an application": loaded again by isolated class loaders in the test. */
public record Greeting(String text) implements Serializable {
}
