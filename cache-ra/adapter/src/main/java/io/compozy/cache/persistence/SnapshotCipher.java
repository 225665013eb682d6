package io.compozy.cache.persistence;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM for snapshot chunks. Each chunk carries its own random 96-bit nonce in front of the
 * ciphertext, and is authenticated together with its generation, its index and the chunk count, so a
 * chunk cannot be altered, reordered, moved to another generation or cut off unnoticed.
 *
 * <p>A generation also stores a <em>key check</em>: a fixed block encrypted with the key. It tells a wrong
 * key (a configuration error: stop) apart from a damaged chunk (corruption: fall back to an older one).
 */
final class SnapshotCipher {

    private static final String TRANSFORMATION = "AES/GCM/NoPadding";
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final byte[] KEY_CHECK_AAD = "compozy-cache snapshot key check v1".getBytes(StandardCharsets.US_ASCII);

    private final SecretKeySpec key;
    private final SecureRandom random = new SecureRandom();

    SnapshotCipher(final byte[] key) {
        this.key = new SecretKeySpec(key, "AES");
    }

    byte[] keyCheck() {
        return seal(new byte[16], KEY_CHECK_AAD);
    }

    /** Whether {@code keyCheck} was made with this key. */
    boolean matches(final byte[] keyCheck) {
        try {
            open(keyCheck, KEY_CHECK_AAD);
            return true;
        } catch (AEADBadTagException e) {
            return false;
        }
    }

    byte[] encryptChunk(final byte[] plain, final int length, final long generation, final int index,
                        final int count) {
        return seal(Arrays.copyOf(plain, length), chunkAad(generation, index, count));
    }

    /** @throws AEADBadTagException when the chunk was altered or belongs elsewhere */
    byte[] decryptChunk(final byte[] stored, final long generation, final int index, final int count)
            throws AEADBadTagException {
        return open(stored, chunkAad(generation, index, count));
    }

    private byte[] seal(final byte[] plain, final byte[] aad) {
        try {
            byte[] nonce = new byte[NONCE_BYTES];
            random.nextBytes(nonce);
            Cipher cipher = Cipher.getInstance(TRANSFORMATION);
            cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            cipher.updateAAD(aad);
            byte[] sealed = cipher.doFinal(plain);
            return ByteBuffer.allocate(NONCE_BYTES + sealed.length).put(nonce).put(sealed).array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available in this JVM", e);
        }
    }

    private byte[] open(final byte[] stored, final byte[] aad) throws AEADBadTagException {
        if (stored.length < NONCE_BYTES + TAG_BITS / 8) {
            throw new AEADBadTagException("too short to be an AES-GCM block");
        }
        try {
            Cipher cipher = Cipher.getInstance(TRANSFORMATION);
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, stored, 0, NONCE_BYTES));
            cipher.updateAAD(aad);
            return cipher.doFinal(stored, NONCE_BYTES, stored.length - NONCE_BYTES);
        } catch (AEADBadTagException e) {
            throw e;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available in this JVM", e);
        }
    }

    private static byte[] chunkAad(final long generation, final int index, final int count) {
        return ByteBuffer.allocate(16).putLong(generation).putInt(index).putInt(count).array();
    }
}
