package io.compozy.cache.testing;

/** Something that runs a Redis command and returns the reply as Redis sent it (String, Long, List or null). */
@FunctionalInterface
public interface RedisCommands {

    Object call(String... command);
}
