package io.compozy.cache.web.store;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** What one class logs at FINE and above while this is open; closing it gives the logger its level back. */
final class CapturedLog extends Handler implements AutoCloseable {

    private final Logger logger;
    private final Level levelBefore;
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();

    CapturedLog(final Class<?> source) {
        logger = Logger.getLogger(source.getName());
        levelBefore = logger.getLevel();
        setLevel(Level.FINE);
        logger.setLevel(Level.FINE);
        logger.addHandler(this);
    }

    /** The messages logged at exactly {@code level}. */
    List<String> at(final Level level) {
        return records.stream().filter(r -> r.getLevel().equals(level)).map(LogRecord::getMessage).toList();
    }

    @Override
    public void close() {
        logger.removeHandler(this);
        logger.setLevel(levelBefore);
    }

    @Override
    public void publish(final LogRecord record) {
        if (isLoggable(record)) {
            records.add(record);
        }
    }

    @Override
    public void flush() {
        // Nothing is buffered.
    }
}
