package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.IpfsException;
import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.nio.file.FileSystemException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** How failures become codes and details (the filter's own behaviour runs in every RegistryApi*Test). */
final class ErrorsFilterTest {

    /** Issue 9: a full disk answered 502 (an upstream failure) with the spool file's path in the detail. */
    @Test
    void fromIo_diskFull_503WithClearMessageAndNoPath() {
        IOException full = new FileSystemException("/var/lib/mirrorball/uploads/3f2a/data", null,
                "No space left on device");

        OciException e = ErrorsFilter.fromIo(full);

        assertEquals(OciErrorCode.UNAVAILABLE, e.code());
        assertEquals(503, e.code().status());
        assertEquals("storage is full: no space left on device", e.detail());
    }

    @Test
    void fromIpfs_kuboDiskFull_503() {
        IpfsException kubo = new IpfsException(IpfsException.Kind.FAILED,
                "add: write /home/ipfs/.ipfs/blocks/XY/ABC.data: no space left on device");

        OciException e = ErrorsFilter.fromIpfs(kubo);

        assertEquals(503, e.code().status());
        assertFalse(e.detail().contains("/home"), e.detail());
    }

    @Test
    void fromIo_wrappedDiskFull_503() {
        IOException wrapped = new IOException("spool", new FileSystemException("/x/y", null, "Disk quota exceeded"));
        assertEquals(503, ErrorsFilter.fromIo(wrapped).code().status());
    }

    /** Issue 9: details showed file paths, node and upstream URLs and Java class names. */
    @Test
    void fromIoAndIpfs_detailsNameNoInternals() {
        IOException[] failures = {
                new IOException("/var/lib/mirrorball/ipfs/blocks/AB/CIQ.data: Input/output error"),
                new SocketTimeoutException("Read timed out from http://127.0.0.1:5001/api/v0/add"),
                new ConnectException("Connection refused: upstream.internal:5000"),
        };
        for (IOException failure : failures) {
            String detail = ErrorsFilter.fromIo(failure).detail();
            assertFalse(detail.contains("/var") || detail.contains("http") || detail.contains("Exception")
                    || detail.contains("internal"), detail);
        }
        for (IpfsException.Kind kind : IpfsException.Kind.values()) {
            String detail = ErrorsFilter.fromIpfs(new IpfsException(kind,
                    "files/cp /docker/registry/v2/blobs/sha256/ab: IPFS node http://user:secret@10.0.0.5:5001 "
                            + "unreachable: java.net.ConnectException: refused")).detail();
            assertFalse(detail.contains("/docker") || detail.contains("secret") || detail.contains("10.0.0.5")
                    || detail.contains("java."), detail);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "GET https://user:pw@registry.internal:5000/v2/x/manifests/latest: upstream unreachable",
            "pull blob sha256:ab of app: java.net.SocketException: Connection reset",
            "cannot open /var/lib/mirrorball/uploads/x/data",
            "C:\\mirrorball\\data\\uploads\\x",
            "org.apache.hc.core5.http.ConnectionClosedException: Premature end"})
    void safeDetail_internals_removed(String detail) {
        String safe = ErrorsFilter.safeDetail(detail);

        assertFalse(safe.contains("registry.internal") || safe.contains("pw@") || safe.contains("java.net")
                || safe.contains("/var/lib") || safe.contains("mirrorball\\data") || safe.contains("org.apache"), safe);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            blob sha256:ab is not in org/team/app
            no route for /v2/a/b/c
            mediaType application/vnd.oci.image.manifest.v1+json does not match Content-Type text/plain
            """)
    void safeDetail_clientFacts_kept(String detail) {
        assertEquals(detail, ErrorsFilter.safeDetail(detail));
    }

    /** Issue 9: every Jetty 400 became NAME_INVALID and 501 UNAVAILABLE. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            400 | /v2/a/b/tags/list     | Ambiguous URI path separator | NAME_INVALID
            400 | /v2/a/b/tags/list     | Bad Content-Length           | UNSUPPORTED
            400 | /v2/a/b/tags/list     | Unknown Version              | UNSUPPORTED
            400 |                       | Bad URI                      | UNSUPPORTED
            413 | /v2/a/manifests/v1    | ''                           | MANIFEST_INVALID
            413 | /v2/a/blobs/uploads/x | ''                           | SIZE_INVALID
            414 | /v2/a/b/tags/list     | ''                           | NAME_INVALID
            414 | /metrics              | ''                           | UNSUPPORTED
            414 |                       | URI Too Long                 | NAME_INVALID
            431 | /v2/a/b/tags/list     | Request Header Fields Too Large | UNSUPPORTED
            501 | /v2/                  | ''                           | UNSUPPORTED
            505 | /v2/                  | ''                           | UNSUPPORTED
            500 | /v2/                  | ''                           | UNKNOWN
            503 | /v2/                  | ''                           | UNAVAILABLE
            """)
    void jettyErrors_mappedToOciCodes(int status, String path, String reason, String code) {
        assertEquals(code, JsonErrorHandler.code(status, path, reason));
    }

    @Test
    void diskFull_onlyForSpaceErrors() {
        assertTrue(ErrorsFilter.isDiskFull(new FileSystemException("/a", null, "No space left on device")));
        assertFalse(ErrorsFilter.isDiskFull(new FileSystemException("/a", null, "Permission denied")));
        assertFalse(ErrorsFilter.isDiskFull(new IOException((String) null)));
    }
}
