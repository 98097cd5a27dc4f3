package io.mirrorball.oci;

import static io.mirrorball.testing.FuzzInput.assertClientError;
import static io.mirrorball.testing.FuzzInput.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * The names in a request path: digests, references (tag or digest) and repository names. Input:
 * the text (seeds in OciNamesFuzzTestInputs/parse_anyText). A parsed value prints as its input.
 */
final class OciNamesFuzzTest {

    @FuzzTest
    void parse_anyText(byte[] input) {
        String text = text(input);

        boolean isDigest = Digest.isDigest(text);
        try {
            Digest digest = Digest.parse(text);
            assertTrue(isDigest);
            assertEquals(text, digest.toString());
            assertEquals(digest, Digest.parse(digest.toString()));
            assertEquals(digest.hex().length() / 2, digest.bytes().length);
        } catch (OciException e) {
            assertFalse(isDigest);
            assertEquals(OciErrorCode.DIGEST_INVALID, e.code());
        }

        try {
            Reference reference = Reference.parse(text);
            assertEquals(text, reference.toString());
            assertTrue(reference.isDigest() || Reference.isTag(text));
        } catch (OciException e) {
            assertClientError(e);
        }

        boolean valid = RepositoryName.isValid(text);
        try {
            RepositoryName name = RepositoryName.parse(text);
            assertTrue(valid);
            assertEquals(text, name.value());
            assertTrue(text.length() <= RepositoryName.MAX_LENGTH);
            assertTrue(name.components() >= 1);
            assertFalse(text.contains("..") || text.startsWith("/") || text.endsWith("/"), text);
        } catch (OciException e) {
            assertFalse(valid);
            assertEquals(OciErrorCode.NAME_INVALID, e.code());
        }
    }
}
