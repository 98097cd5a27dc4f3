package io.mirrorball.oci;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed image manifest or index (OCI or Docker schema 2). Only the fields the registry needs;
 * the stored bytes are always the bytes that were pushed.
 *
 * @param layers    blobs of an image manifest (empty for an index)
 * @param manifests children of an index (empty for an image manifest)
 * @param config    null for an index
 * @param subject   the manifest this one refers to (referrers API), or null
 * @param mediaTypeDeclared true when the document has a {@code mediaType} field; otherwise {@code mediaType}
 *                  came from the Content-Type it was pushed with, or is inferred (OCI)
 */
public record Manifest(String mediaType, Descriptor config, List<Descriptor> layers, List<Descriptor> manifests,
                      Descriptor subject, String artifactType, Map<String, String> annotations,
                      boolean mediaTypeDeclared) {
    /** Manifests and indexes are read whole, but never more than this. */
    public static final int MAX_BYTES = 4 * 1024 * 1024;

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    public Manifest {
        layers = List.copyOf(layers);
        manifests = List.copyOf(manifests);
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
    }

    public boolean isIndex() {
        return MediaTypes.isIndex(mediaType);
    }

    /** Config and layers: what must exist as blobs before this manifest is accepted. */
    public List<Descriptor> blobs() {
        List<Descriptor> blobs = new ArrayList<>(layers.size() + 1);
        if (config != null) {
            blobs.add(config);
        }
        blobs.addAll(layers);
        return blobs;
    }

    /**
     * The media type to remember beside the bytes: the pushed Content-Type of a document without a
     * {@code mediaType} field, when it differs from what the bytes alone would be read as (a Docker
     * schema 2 manifest pushed with its Content-Type). Null when the bytes say it all.
     */
    public String mediaTypeToRemember() {
        if (mediaTypeDeclared) {
            return null;
        }
        String inferred = manifests.isEmpty() && config != null ? MediaTypes.OCI_MANIFEST : MediaTypes.OCI_INDEX;
        return mediaType.equals(inferred) ? null : mediaType;
    }

    /**
     * The artifact type reported by the referrers API: artifactType, else the config media type.
     */
    public String effectiveArtifactType() {
        if (artifactType != null) {
            return artifactType;
        }
        return config != null ? config.mediaType() : null;
    }

    /**
     * Parses and validates manifest bytes.
     *
     * @param contentType the Content-Type of the PUT, or null; it must agree with the document's mediaType
     */
    public static Manifest parse(byte[] content, String contentType) {
        if (content.length > MAX_BYTES) {
            throw new OciException(OciErrorCode.MANIFEST_TOO_LARGE, "manifest is " + content.length
                    + " bytes, over the limit of " + MAX_BYTES);
        }
        requireUtf8(content);
        JsonNode root;
        try {
            root = JSON.readTree(content);
        } catch (JsonProcessingException e) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, "manifest is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, "manifest is not valid JSON");
        }
        if (root == null || !root.isObject()) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, "manifest is not a JSON object");
        }
        JsonNode schemaVersion = root.get("schemaVersion");
        if (schemaVersion == null || !schemaVersion.isInt() || schemaVersion.intValue() != 2) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, "schemaVersion must be 2");
        }
        String declared = text(root, "mediaType");
        String header = MediaTypes.base(contentType);
        if (header != null && (header.isEmpty() || !MediaTypes.ALL.contains(header))) {
            header = null;
        }
        if (declared != null && header != null && !declared.equals(header)) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, "mediaType " + declared
                    + " does not match Content-Type " + header);
        }
        String mediaType = declared != null ? declared : header;
        if (mediaType == null) {
            mediaType = root.has("manifests") ? MediaTypes.OCI_INDEX : MediaTypes.OCI_MANIFEST;
        }
        if (!MediaTypes.ALL.contains(mediaType)) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, "unsupported manifest media type " + mediaType);
        }
        Descriptor subject = root.has("subject") ? descriptor(root.get("subject"), "subject") : null;
        String artifactType = text(root, "artifactType");
        Map<String, String> annotations = stringMap(root.get("annotations"), "annotations");
        if (MediaTypes.isIndex(mediaType)) {
            if (root.has("config") || root.has("layers")) {
                throw new OciException(OciErrorCode.MANIFEST_INVALID, "an index has no config or layers");
            }
            List<Descriptor> children = descriptors(root.get("manifests"), "manifests");
            return new Manifest(mediaType, null, List.of(), children, subject, artifactType, annotations,
                    declared != null);
        }
        if (root.has("manifests")) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, "an image manifest has no manifests list");
        }
        JsonNode configNode = root.get("config");
        if (configNode == null) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, "config descriptor is missing");
        }
        Descriptor config = descriptor(configNode, "config");
        List<Descriptor> layers = descriptors(root.get("layers"), "layers");
        return new Manifest(mediaType, config, layers, List.of(), subject, artifactType, annotations,
                declared != null);
    }

    /**
     * JSON exchanged between systems is UTF-8 without a byte order mark (RFC 8259 8.1). Jackson would
     * skip a BOM and detect UTF-16 or UTF-32, but the digest covers the bytes as pushed, and clients that
     * pull them fail to parse: such manifests are refused, not stored.
     */
    private static void requireUtf8(byte[] content) {
        if (content.length >= 3 && (content[0] & 0xff) == 0xef && (content[1] & 0xff) == 0xbb
                && (content[2] & 0xff) == 0xbf) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID,
                    "manifest starts with a UTF-8 byte order mark; send it without one");
        }
        if (content.length >= 2 && ((content[0] & 0xff) == 0xfe && (content[1] & 0xff) == 0xff
                || (content[0] & 0xff) == 0xff && (content[1] & 0xff) == 0xfe)) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID,
                    "manifest starts with a UTF-16 byte order mark; it must be UTF-8 JSON");
        }
        for (byte b : content) {
            if (b == 0) {
                throw new OciException(OciErrorCode.MANIFEST_INVALID,
                        "manifest contains a NUL byte; it must be UTF-8 JSON");
            }
        }
        try {
            StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(content));
        } catch (CharacterCodingException e) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, "manifest is not valid UTF-8");
        }
    }

    private static List<Descriptor> descriptors(JsonNode node, String field) {
        if (node == null || !node.isArray()) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, field + " must be an array");
        }
        List<Descriptor> list = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            list.add(descriptor(node.get(i), field + "[" + i + "]"));
        }
        return list;
    }

    private static Descriptor descriptor(JsonNode node, String where) {
        if (node == null || !node.isObject()) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, where + " must be a descriptor object");
        }
        String mediaType = text(node, "mediaType");
        if (mediaType == null || mediaType.isEmpty()) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, where + ".mediaType is missing");
        }
        String digestText = text(node, "digest");
        if (digestText == null || !Digest.isDigest(digestText)) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, where + ".digest is missing or invalid");
        }
        JsonNode size = node.get("size");
        if (size == null || !size.canConvertToLong() || !size.isIntegralNumber() || size.longValue() < 0) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, where + ".size must be a non-negative integer");
        }
        return new Descriptor(mediaType, Digest.parse(digestText), size.longValue(), text(node, "artifactType"),
                stringMap(node.get("annotations"), where + ".annotations"), urls(node.get("urls"), where + ".urls"));
    }

    private static List<String> urls(JsonNode node, String where) {
        if (node == null || node.isNull()) {
            return List.of();
        }
        if (!node.isArray()) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, where + " must be an array of strings");
        }
        List<String> urls = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            JsonNode url = node.get(i);
            if (!url.isTextual() || !(isHttpUrl(url.textValue()) || IPFS_URL.matcher(url.textValue()).matches())) {
                throw new OciException(OciErrorCode.MANIFEST_INVALID, where + "[" + i + "] must be an http or https URL"
                        + " or ipfs://<cid>");
            }
            urls.add(url.textValue());
        }
        return urls;
    }

    /** nerdctl's urls (docs/formats.md): a CID alone, no path, query or other name below it. */
    private static final java.util.regex.Pattern IPFS_URL = java.util.regex.Pattern.compile("ipfs://[A-Za-z0-9]{2,200}");

    private static boolean isHttpUrl(String text) {
        try {
            java.net.URI uri = new java.net.URI(text);
            return uri.isAbsolute() && ("http".equalsIgnoreCase(uri.getScheme())
                    || "https".equalsIgnoreCase(uri.getScheme())) && uri.getHost() != null;
        } catch (java.net.URISyntaxException e) {
            return false;
        }
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, field + " must be a string");
        }
        return value.textValue();
    }

    private static Map<String, String> stringMap(JsonNode node, String where) {
        if (node == null || node.isNull()) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw new OciException(OciErrorCode.MANIFEST_INVALID, where + " must be an object");
        }
        Map<String, String> map = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new OciException(OciErrorCode.MANIFEST_INVALID, where + "." + e.getKey() + " must be a string");
            }
            map.put(e.getKey(), e.getValue().textValue());
        }
        return map;
    }
}
