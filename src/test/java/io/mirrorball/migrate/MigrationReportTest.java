package io.mirrorball.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mirrorball.ipfs.Cid;
import io.mirrorball.oci.Digest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

final class MigrationReportTest {
    private static final Digest DIGEST = Digest.ofBytes("m".getBytes(StandardCharsets.UTF_8));
    private static final Cid CID = Cid.sha256(Cid.DAG_PB, DIGEST.bytes());

    private final MigrationReport report = new MigrationReport(
            List.of(new ImageResult("docker://r.example/app:1", "app:1", DIGEST, CID, 3 << 20, 2, 1)),
            List.of(new ImageFailure("docker://r.example/gone:1", FailureKind.NOT_FOUND, "gone:1: no such tag")),
            false);

    @Test
    void printJson_successesHaveExactlySourceDigestCid_failuresTheirError() throws Exception {
        StringWriter text = new StringWriter();
        report.printJson(new PrintWriter(text));

        JsonNode array = new ObjectMapper().readTree(text.toString());
        assertEquals(2, array.size());
        JsonNode ok = array.get(0);
        assertEquals(List.of("source", "digest", "cid"), List.copyOf(iterable(ok)));
        assertEquals("docker://r.example/app:1", ok.get("source").asText());
        assertEquals(DIGEST.toString(), ok.get("digest").asText());
        assertEquals(CID.toString(), ok.get("cid").asText());
        JsonNode failed = array.get(1);
        assertEquals("NOT_FOUND", failed.path("error").path("kind").asText());
        assertEquals("gone:1: no such tag", failed.path("error").path("message").asText());
    }

    @Test
    void printTable_listsImagesThenFailuresThenTotals() {
        StringWriter text = new StringWriter();
        report.printTable(new PrintWriter(text));

        String[] lines = text.toString().split("\n");
        assertTrue(lines[0].startsWith("SOURCE "), lines[0]);
        assertTrue(lines[1].contains("docker://r.example/app:1") && lines[1].contains(CID.toString())
                && lines[1].contains("2 (3.0 MiB)"), lines[1]);
        assertTrue(text.toString().contains("FAILED"), text.toString());
        assertTrue(text.toString().contains("docker://r.example/gone:1  NOT_FOUND  gone:1: no such tag"), text.toString());
        assertTrue(lines[lines.length - 1].startsWith("1 image(s) copied, 1 failed, 3.0 MiB copied"),
                lines[lines.length - 1]);
    }

    private static List<String> iterable(JsonNode node) {
        List<String> names = new java.util.ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
