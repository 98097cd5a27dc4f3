package io.mirrorball.ipfs.kubo;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.Cid;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Kubo's CAR header reader on crafted headers. */
final class KuboCarTest {

    /**
     * Found writing CarFuzzTest's property (both header readers find the same roots): with the key roots
     * twice, the embedded node's reader kept the last list and Kubo's reader joined both (the embedded
     * node's half is in ipfs.CarTest).
     */
    @Test
    void readHeader_repeatedRootsKey_isInvalid() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KuboCar.readHeader(new ByteArrayInputStream(repeatedRootsCar())));
        assertTrue(e.getMessage().contains("repeated CAR header key roots"), e.getMessage());
    }

    /** The header {roots: [root], roots: [root], version: 1}, after its length. */
    private static byte[] repeatedRootsCar() {
        byte[] root = Cid.parse("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku").bytes();
        ByteArrayOutputStream header = new ByteArrayOutputStream();
        header.write(0xa3);
        for (int i = 0; i < 2; i++) {
            text(header, "roots");
            header.write(0x81);
            header.write(0xd8);
            header.write(42);
            header.write(0x58);
            header.write(root.length + 1);
            header.write(0);
            header.writeBytes(root);
        }
        text(header, "version");
        header.write(1);
        ByteArrayOutputStream car = new ByteArrayOutputStream();
        car.write(header.size()); // under 128: a one-byte varint
        car.writeBytes(header.toByteArray());
        return car.toByteArray();
    }

    private static void text(ByteArrayOutputStream out, String text) {
        out.write(0x60 + text.length());
        out.writeBytes(text.getBytes(StandardCharsets.UTF_8));
    }
}
