package io.compozy.cache.jcache;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serializable;

/**
 * A serializable class no allow-list names: loading it for use (its static initializer) or reading an
 * instance of it (its {@code readObject}) leaves a mark that every class loader's copy shares.
 */
public final class Tripwire implements Serializable {

    private static final long serialVersionUID = 1L;
    private static final String MARKS = "compozy.test.tripwire.marks";

    static {
        mark();
    }

    /** How many copies were initialized and instances read, in every class loader. */
    static int marks() {
        return Integer.getInteger(MARKS, 0);
    }

    private static synchronized void mark() {
        System.setProperty(MARKS, Integer.toString(marks() + 1));
    }

    private void readObject(final ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        mark();
    }
}
