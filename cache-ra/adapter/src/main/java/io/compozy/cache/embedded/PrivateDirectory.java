package io.compozy.cache.embedded;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Directories and files only this user can read: the embedded server's config holds its password and
 * the snapshot store holds the data.
 */
public final class PrivateDirectory {

    public static final Set<PosixFilePermission> DIR = PosixFilePermissions.fromString("rwx------");
    public static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

    private PrivateDirectory() {
    }

    /** Creates {@code dir} (0700) or checks that an existing one is a real directory we own and keep private. */
    public static Path ensure(final Path dir) throws IOException {
        Files.createDirectories(dir);
        if (Files.isSymbolicLink(dir) || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(dir + " is not a plain directory");
        }
        if (posix()) {
            String me = System.getProperty("user.name");
            String owner = Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS).getName();
            if (!owner.equals(me)) {
                throw new IOException(dir + " belongs to " + owner + ", not to " + me);
            }
            Files.setPosixFilePermissions(dir, DIR);
        }
        return dir;
    }

    public static void restrictFile(final Path file) throws IOException {
        if (posix()) {
            Files.setPosixFilePermissions(file, FILE);
        }
    }

    static boolean posix() {
        return FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    }
}
