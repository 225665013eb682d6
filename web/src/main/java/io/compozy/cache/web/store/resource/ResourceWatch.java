package io.compozy.cache.web.store.resource;

import io.compozy.cache.web.store.Subscription;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.redisson.api.RTopic;

/**
 * One watch: forwards the channel's events and heals missed ones by re-listing.
 *
 * <p>Redis calls happen outside the lock (Redisson delivers messages on its I/O threads, which must
 * never wait for a lock held by a thread that waits for Redis). A re-list only reports a key when no
 * event for that key arrived while it was listing, so a slow re-list never undoes a newer event.
 */
final class ResourceWatch implements Subscription {

    private static final Logger LOG = Logger.getLogger(ResourceWatch.class.getName());

    private final ResourceStore store;
    private final String project;
    private final String type;
    private final Consumer<ResourceEvent> listener;
    private final Map<ResourceKey, String> known = new HashMap<>();
    private final Map<ResourceKey, Long> lastEventAt = new HashMap<>();
    private long eventCounter;
    private boolean closed;
    private RTopic topic;
    private int listenerId;
    private ScheduledFuture<?> resync;

    ResourceWatch(final ResourceStore store, final String project, final String type,
            final Consumer<ResourceEvent> listener) {
        this.store = store;
        this.project = project;
        this.type = type;
        this.listener = listener;
    }

    void start(final RTopic eventTopic, final ScheduledExecutorService scheduler, final Duration period) {
        topic = eventTopic;
        // Subscribe before listing, so that nothing written after the listing is missed.
        listenerId = topic.addListener(String.class, (channel, message) -> onMessage(channel.toString(), message));
        resyncFromListing();
        resync = scheduler.scheduleAtFixedRate(this::resyncSafely, period.toMillis(), period.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    private void onMessage(final String channel, final String message) {
        ResourceEvent event;
        try {
            event = ResourceEvent.parse(message, channel);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "ignoring an unreadable event on " + channel, e);
            return;
        }
        synchronized (this) {
            eventCounter++;
            lastEventAt.put(event.key(), eventCounter);
            remember(event);
            deliver(event);
        }
    }

    private void resyncSafely() {
        try {
            resyncFromListing();
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "watch re-sync of " + project + "/" + type + " failed; retrying next period", e);
        }
    }

    private void resyncFromListing() {
        long startedAt;
        synchronized (this) {
            startedAt = eventCounter;
        }
        List<StoredResource> listing = store.listWithValues(project, type);
        synchronized (this) {
            if (closed) {
                return;
            }
            Instant now = Instant.now();
            Set<ResourceKey> present = new HashSet<>();
            for (StoredResource resource : listing) {
                present.add(resource.key());
                if (changedSince(resource.key(), startedAt)) {
                    continue;
                }
                if (!resource.etag().equals(known.get(resource.key()))) {
                    ResourceEvent put = new ResourceEvent(ResourceEvent.PUT, resource.key(), resource.etag(), now);
                    remember(put);
                    deliver(put);
                }
            }
            for (Map.Entry<ResourceKey, String> entry : Map.copyOf(known).entrySet()) {
                if (!present.contains(entry.getKey()) && !changedSince(entry.getKey(), startedAt)) {
                    ResourceEvent delete = new ResourceEvent(ResourceEvent.DELETE, entry.getKey(), entry.getValue(), now);
                    remember(delete);
                    deliver(delete);
                }
            }
            lastEventAt.values().removeIf(at -> at <= startedAt); // only the window of this re-list matters
        }
    }

    private boolean changedSince(final ResourceKey key, final long counter) {
        Long at = lastEventAt.get(key);
        return at != null && at > counter;
    }

    private void remember(final ResourceEvent event) {
        if (ResourceEvent.DELETE.equals(event.type())) {
            known.remove(event.key());
        } else {
            known.put(event.key(), event.etag());
        }
    }

    private void deliver(final ResourceEvent event) {
        if (closed) {
            return;
        }
        try {
            listener.accept(event);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "a watch listener of " + project + "/" + type + " failed", e);
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (resync != null) {
            resync.cancel(false);
        }
        topic.removeListener(listenerId);
    }
}
