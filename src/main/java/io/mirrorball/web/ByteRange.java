package io.mirrorball.web;

import io.mirrorball.oci.OciErrorCode;
import io.mirrorball.oci.OciException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A single byte range of a blob GET ({@code Range: bytes=a-b}, {@code a-}, {@code -n}), resolved
 * against the blob size; and the {@code Content-Range: a-b} of an upload chunk.
 */
record ByteRange(long offset, long length) {
    private static final Pattern RANGE = Pattern.compile("^bytes=(\\d{0,19})-(\\d{0,19})$");
    private static final Pattern CHUNK = Pattern.compile("^(?:bytes[ =])?(\\d{1,19})-(\\d{1,19})(?:/(?:\\d{1,19}|\\*))?$");

    long last() {
        return offset + length - 1;
    }

    /**
     * The range a GET asks for, or empty to serve the whole blob (no header, several ranges, or a
     * header that is not a byte range: RFC 9110 lets a server ignore those). A single range whose
     * last byte comes before its first is answered 416, like one that starts past the end.
     *
     * @throws OciException RANGE_NOT_SATISFIABLE with {@code Content-Range: bytes * /size}
     */
    static Optional<ByteRange> parseRequest(String header, long size) {
        if (header == null) {
            return Optional.empty();
        }
        Matcher m = RANGE.matcher(header.trim());
        if (!m.matches() || (m.group(1).isEmpty() && m.group(2).isEmpty())) {
            return Optional.empty();
        }
        long first;
        long last;
        try {
            if (m.group(1).isEmpty()) {
                long suffix = Long.parseLong(m.group(2));
                if (suffix == 0) {
                    throw unsatisfiable(size);
                }
                first = Math.max(0, size - suffix);
                last = size - 1;
            } else {
                first = Long.parseLong(m.group(1));
                last = m.group(2).isEmpty() ? size - 1 : Math.min(Long.parseLong(m.group(2)), size - 1);
                if (!m.group(2).isEmpty() && Long.parseLong(m.group(2)) < first) {
                    throw unsatisfiable(size); // last before first: an invalid range, not a request for all
                }
            }
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        if (first >= size || size == 0) {
            throw unsatisfiable(size);
        }
        return Optional.of(new ByteRange(first, last - first + 1));
    }

    /** The {@code Content-Range} of a PATCH chunk: inclusive start and end. */
    static ByteRange parseChunk(String header) {
        Matcher m = CHUNK.matcher(header.trim());
        if (!m.matches()) {
            throw new OciException(OciErrorCode.BLOB_UPLOAD_OUT_OF_ORDER, "invalid Content-Range " + header);
        }
        try {
            long first = Long.parseLong(m.group(1));
            long last = Long.parseLong(m.group(2));
            if (last < first || last - first == Long.MAX_VALUE) { // the length would not fit a long
                throw new OciException(OciErrorCode.BLOB_UPLOAD_OUT_OF_ORDER, "invalid Content-Range " + header);
            }
            return new ByteRange(first, last - first + 1);
        } catch (NumberFormatException e) {
            throw new OciException(OciErrorCode.BLOB_UPLOAD_OUT_OF_ORDER, "invalid Content-Range " + header);
        }
    }

    private static OciException unsatisfiable(long size) {
        return new OciException(OciErrorCode.RANGE_NOT_SATISFIABLE, "blob has " + size + " bytes")
                .withHeader("Content-Range", "bytes */" + size);
    }
}
