import Foundation

/// Builds a 128-byte EDID 1.4 base block (VESA E-EDID A2), for screen fixtures checked
/// against `edid-decode`.
public struct EDIDBuilder: Sendable {
    public var manufacturerID = "AUO"
    public var productCode: UInt16 = 0x1234
    public var serialNumber: UInt32 = 0
    public var week: UInt8 = 12
    public var year = 2017
    public var widthCm: UInt8 = 31
    public var heightCm: UInt8 = 17
    public var width = 1920
    public var height = 1080
    public var widthMm = 309
    public var heightMm = 174
    public var refreshHz = 60
    public var name: String?
    public var serialString: String?
    public var texts: [String] = []

    public init() {}

    public func bytes() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 128)
        b[0..<8] = [0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00]
        let letters = manufacturerID.utf8.map { UInt16($0 - 64) }
        let id = letters[0] << 10 | letters[1] << 5 | letters[2]
        b[8] = UInt8(id >> 8); b[9] = UInt8(id & 0xFF)
        b[10] = UInt8(productCode & 0xFF); b[11] = UInt8(productCode >> 8)
        for i in 0..<4 { b[12 + i] = UInt8((serialNumber >> (8 * i)) & 0xFF) }
        b[16] = week; b[17] = UInt8(year - 1990); b[18] = 1; b[19] = 4
        b[20] = 0xA5                                   // digital, 8 bits per colour, DisplayPort
        b[21] = widthCm; b[22] = heightCm; b[23] = 120 // gamma 2.20
        b[24] = 0x0A                                   // RGB 4:4:4, preferred timing is native
        b[25..<35] = [0xEE, 0x95, 0xA3, 0x54, 0x4C, 0x99, 0x26, 0x0F, 0x50, 0x54] // sRGB-like chromaticity
        for i in stride(from: 38, to: 54, by: 2) { b[i] = 0x01; b[i + 1] = 0x01 } // no standard timings
        var descriptors: [[UInt8]] = [detailedTiming()]
        if let name { descriptors.append(textDescriptor(0xFC, name)) }
        if let serialString { descriptors.append(textDescriptor(0xFF, serialString)) }
        for text in texts { descriptors.append(textDescriptor(0xFE, text)) }
        while descriptors.count < 4 { descriptors.append([0, 0, 0, 0x10] + [UInt8](repeating: 0, count: 14)) } // dummy
        for (index, descriptor) in descriptors.prefix(4).enumerated() {
            b[(54 + 18 * index)..<(54 + 18 * (index + 1))] = descriptor[0..<18]
        }
        b[126] = 0
        b[127] = 0 &- b[0..<127].reduce(UInt8(0), &+)
        return b
    }

    /// A detailed timing (§3.10.2) with CVT-like reduced blanking: 160 pixels, 31 lines.
    func detailedTiming() -> [UInt8] {
        let hBlank = 160, vBlank = 31
        let clock = (width + hBlank) * (height + vBlank) * refreshHz / 10_000 // in 10 kHz
        var d = [UInt8](repeating: 0, count: 18)
        d[0] = UInt8(clock & 0xFF); d[1] = UInt8(clock >> 8)
        d[2] = UInt8(width & 0xFF); d[3] = UInt8(hBlank & 0xFF); d[4] = UInt8((width >> 8) << 4 | (hBlank >> 8))
        d[5] = UInt8(height & 0xFF); d[6] = UInt8(vBlank & 0xFF); d[7] = UInt8((height >> 8) << 4 | (vBlank >> 8))
        d[8] = 48; d[9] = 32; d[10] = 0x35; d[11] = 0          // h front porch 48, sync 32; v front 3, sync 5
        d[12] = UInt8(widthMm & 0xFF); d[13] = UInt8(heightMm & 0xFF); d[14] = UInt8((widthMm >> 8) << 4 | (heightMm >> 8))
        d[17] = 0x1A                                          // digital separate sync, h+ v-
        return d
    }

    func textDescriptor(_ tag: UInt8, _ text: String) -> [UInt8] {
        var body = Array(text.utf8.prefix(13))
        if body.count < 13 { body.append(0x0A) }
        while body.count < 13 { body.append(0x20) }
        return [0, 0, 0, tag, 0] + body
    }
}
