package io.mirrorball.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mirrorball.ipfs.Cid;
import io.mirrorball.oci.Digest;
import io.mirrorball.oci.MediaTypes;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class PullCommandTest {
    private static final Digest DIGEST = Digest.ofBytes("m".getBytes(StandardCharsets.UTF_8));
    private static final Cid CID = Cid.parse("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi");

    private static ImagePage.Image image(String tag, Cid cid) {
        return new ImagePage.Image(new RepositoryRow("org/app", RepositoryRow.PUSHED, null, 1), tag,
                new ImageFacts(DIGEST, MediaTypes.OCI_MANIFEST, List.of("linux/amd64"), 10), cid, null, null);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            docker     | tag    | false | docker pull h:5000/org/app:1.0
            podman     | tag    | false | podman pull --tls-verify=false h:5000/org/app:1.0
            podman     | tag    | true  | podman pull h:5000/org/app:1.0
            skopeo     | digest | false | skopeo copy --src-tls-verify=false docker://h:5000/org/app@DIGEST oci:app
            skopeo     | cid    | true  | skopeo copy docker://h:5000/CID:latest oci:app
            containerd | cid    | false | ctr images pull --plain-http h:5000/CID:latest
            containerd | digest | true  | ctr images pull h:5000/org/app@DIGEST
            """)
    void of_eachClientAndReference_commandThatPullsIt(String client, String by, boolean https, String expected) {
        List<PullCommand> commands = PullCommand.of("h:5000", https, image("1.0", CID));
        PullCommand command = commands.stream().filter(c -> c.client().equals(client) && c.by().equals(by))
                .findFirst().orElseThrow();
        assertEquals(expected.replace("DIGEST", DIGEST.toString()).replace("CID", CID.toString()), command.text());
        assertEquals(12, commands.size(), "4 clients x tag, digest, CID");
    }

    @ParameterizedTest
    @CsvSource({"true", "false"})
    void of_byDigestWithoutCid_noTagOrCidCommands(boolean https) {
        List<PullCommand> commands = PullCommand.of("h", https, image(null, null));
        assertEquals(4, commands.size());
        commands.forEach(c -> assertEquals("digest", c.by()));
    }
}
