import Foundation
import Certificates

/// What a PC is made of: the facts `ardoise inventory` prints and signs. Member names are the
/// JSON names (camelCase, like the certificate); every code is a stable lowercase string,
/// identical in every language. docs/inventory.md says where each field comes from.
public struct HostInventory: Codable, Sendable, Equatable {
    public var system: SystemInfo
    public var chassis: ChassisInfo
    public var baseboard: BaseboardInfo?
    public var bios: BIOSInfo?
    public var cpus: [CPUInfo]
    public var memory: MemoryInfo
    public var drives: [DriveInfo]
    public var batteries: [BatteryInfo]
    public var screens: [ScreenInfo]
    public var gpus: [PCIDeviceInfo]
    public var networkInterfaces: [NetworkInterfaceInfo]
    /// Where the firmware facts came from, and the SMBIOS version.
    public var sources: InventorySources
    /// What could not be read or looked wrong (an EDID checksum, an unreadable SMBIOS table).
    public var warnings: [InventoryWarning]

    public init(system: SystemInfo = SystemInfo(), chassis: ChassisInfo = ChassisInfo(type: .unknown), baseboard: BaseboardInfo? = nil,
                bios: BIOSInfo? = nil, cpus: [CPUInfo] = [], memory: MemoryInfo = MemoryInfo(), drives: [DriveInfo] = [],
                batteries: [BatteryInfo] = [], screens: [ScreenInfo] = [], gpus: [PCIDeviceInfo] = [],
                networkInterfaces: [NetworkInterfaceInfo] = [], sources: InventorySources = InventorySources(firmware: .none),
                warnings: [InventoryWarning] = []) {
        self.system = system; self.chassis = chassis; self.baseboard = baseboard; self.bios = bios; self.cpus = cpus
        self.memory = memory; self.drives = drives; self.batteries = batteries; self.screens = screens; self.gpus = gpus
        self.networkInterfaces = networkInterfaces; self.sources = sources; self.warnings = warnings
    }
}

/// SMBIOS type 1 (System Information), or `/sys/class/dmi/id/sys_vendor`, `product_*`.
public struct SystemInfo: Codable, Sendable, Equatable {
    public var manufacturer: String?
    public var product: String?
    public var version: String?
    public var serial: String?
    /// Lowercase RFC 4122 text; nil when the firmware says "not present" or "not settable".
    public var uuid: String?
    public var sku: String?
    public var family: String?

    public init(manufacturer: String? = nil, product: String? = nil, version: String? = nil, serial: String? = nil,
                uuid: String? = nil, sku: String? = nil, family: String? = nil) {
        self.manufacturer = manufacturer; self.product = product; self.version = version; self.serial = serial
        self.uuid = uuid; self.sku = sku; self.family = family
    }
}

/// The kind of computer, from the SMBIOS chassis type (DSP0134 §7.4.1, table 17).
public enum ChassisType: String, Codable, Sendable, CaseIterable {
    case laptop
    case desktop
    case allInOne = "all_in_one"
    case tablet
    case server
    case other
    case unknown
}

/// SMBIOS type 3 (System Enclosure or Chassis), or `/sys/class/dmi/id/chassis_*`.
public struct ChassisInfo: Codable, Sendable, Equatable {
    /// The stable code refurbishers count by (laptop vs desktop…).
    public var type: ChassisType
    /// The raw SMBIOS chassis type (bits 6:0 of byte 05h), e.g. 10 for "Notebook".
    public var smbiosType: Int?
    /// The DSP0134 name of `smbiosType` ("Notebook", "Mini Tower"…), as dmidecode prints it.
    public var smbiosTypeName: String?
    public var manufacturer: String?
    public var version: String?
    public var serial: String?
    public var assetTag: String?
    public var sku: String?

    public init(type: ChassisType, smbiosType: Int? = nil, smbiosTypeName: String? = nil, manufacturer: String? = nil,
                version: String? = nil, serial: String? = nil, assetTag: String? = nil, sku: String? = nil) {
        self.type = type; self.smbiosType = smbiosType; self.smbiosTypeName = smbiosTypeName; self.manufacturer = manufacturer
        self.version = version; self.serial = serial; self.assetTag = assetTag; self.sku = sku
    }
}

/// SMBIOS type 2 (Baseboard Information), or `/sys/class/dmi/id/board_*`.
public struct BaseboardInfo: Codable, Sendable, Equatable {
    public var manufacturer: String?
    public var product: String?
    public var version: String?
    public var serial: String?
    public var assetTag: String?

    public init(manufacturer: String? = nil, product: String? = nil, version: String? = nil, serial: String? = nil, assetTag: String? = nil) {
        self.manufacturer = manufacturer; self.product = product; self.version = version; self.serial = serial; self.assetTag = assetTag
    }
}

/// SMBIOS type 0 (BIOS Information), or `/sys/class/dmi/id/bios_*`.
public struct BIOSInfo: Codable, Sendable, Equatable {
    public var vendor: String?
    public var version: String?
    /// As the firmware writes it (`mm/dd/yyyy` per DSP0134).
    public var releaseDate: String?
    /// System BIOS major.minor release (bytes 14h–15h), when not FFh.
    public var release: String?

    public init(vendor: String? = nil, version: String? = nil, releaseDate: String? = nil, release: String? = nil) {
        self.vendor = vendor; self.version = version; self.releaseDate = releaseDate; self.release = release
    }
}

/// One processor package: `/proc/cpuinfo` (model, cores, threads) joined with the SMBIOS
/// type 4 socket in the same order.
public struct CPUInfo: Codable, Sendable, Equatable {
    /// The SMBIOS socket designation ("U3E1", "CPU 1").
    public var socket: String?
    public var manufacturer: String?
    /// `model name` from /proc/cpuinfo, else the SMBIOS processor version string.
    public var model: String?
    public var cores: Int?
    public var threads: Int?
    /// SMBIOS maximum speed (MHz); 0 and unknown are omitted.
    public var maxSpeedMHz: Int?
    public var currentSpeedMHz: Int?
    /// `smbios`, `cpuinfo`, or `smbios+cpuinfo`.
    public var source: String

    public init(socket: String? = nil, manufacturer: String? = nil, model: String? = nil, cores: Int? = nil, threads: Int? = nil,
                maxSpeedMHz: Int? = nil, currentSpeedMHz: Int? = nil, source: String) {
        self.socket = socket; self.manufacturer = manufacturer; self.model = model; self.cores = cores; self.threads = threads
        self.maxSpeedMHz = maxSpeedMHz; self.currentSpeedMHz = currentSpeedMHz; self.source = source
    }
}

/// RAM: the total the kernel sees, what the SMBIOS memory devices add up to, and every slot.
public struct MemoryInfo: Codable, Sendable, Equatable {
    /// Sum of the installed SMBIOS type 17 devices, in bytes (what a refurbisher sells).
    public var installedBytes: UInt64?
    /// `MemTotal` from /proc/meminfo, in bytes (less than installed: firmware and kernel reserve some).
    public var usableBytes: UInt64?
    /// Number of SMBIOS memory devices (slots), populated or not.
    public var slotCount: Int?
    public var emptySlots: Int?
    public var modules: [MemoryModule]

    public init(installedBytes: UInt64? = nil, usableBytes: UInt64? = nil, slotCount: Int? = nil, emptySlots: Int? = nil,
                modules: [MemoryModule] = []) {
        self.installedBytes = installedBytes; self.usableBytes = usableBytes; self.slotCount = slotCount
        self.emptySlots = emptySlots; self.modules = modules
    }
}

/// One SMBIOS type 17 memory device (a slot, possibly empty).
public struct MemoryModule: Codable, Sendable, Equatable {
    public var locator: String?
    public var bankLocator: String?
    public var installed: Bool
    public var sizeBytes: UInt64?
    /// `ddr3`, `ddr4`, `ddr5`, `lpddr4`… (DSP0134 table 76), `unknown`, `other`.
    public var type: String?
    /// `dimm`, `sodimm`, `chip`… (DSP0134 table 75).
    public var formFactor: String?
    /// Maximum speed in MT/s.
    public var speedMTs: Int?
    public var configuredSpeedMTs: Int?
    public var manufacturer: String?
    public var partNumber: String?
    public var serial: String?

    public init(locator: String? = nil, bankLocator: String? = nil, installed: Bool, sizeBytes: UInt64? = nil, type: String? = nil,
                formFactor: String? = nil, speedMTs: Int? = nil, configuredSpeedMTs: Int? = nil, manufacturer: String? = nil,
                partNumber: String? = nil, serial: String? = nil) {
        self.locator = locator; self.bankLocator = bankLocator; self.installed = installed; self.sizeBytes = sizeBytes
        self.type = type; self.formFactor = formFactor; self.speedMTs = speedMTs; self.configuredSpeedMTs = configuredSpeedMTs
        self.manufacturer = manufacturer; self.partNumber = partNumber; self.serial = serial
    }
}

/// A drive of the PC, from DeviceKit's scanner (sysfs, udev when it runs).
public struct DriveInfo: Codable, Sendable, Equatable {
    public var name: String
    public var model: String?
    public var serial: String?
    /// World-wide name (`0x5000c500…`), when the drive has one.
    public var wwn: String?
    public var sizeBytes: UInt64
    /// `sata`, `nvme`, `usb`…
    public var transport: String
    /// `ssd`, `hdd` (from the rotational flag), or `unknown`.
    public var media: String
    public var removable: Bool
    /// The drive's health verdict, in the certificate's `health` shape. The reader leaves it
    /// nil; the bench fills it from the Diagnostics module (`HostInventory.fillingDriveHealth`).
    public var health: DriveHealth?

    public init(name: String, model: String? = nil, serial: String? = nil, wwn: String? = nil, sizeBytes: UInt64, transport: String,
                media: String, removable: Bool, health: DriveHealth? = nil) {
        self.name = name; self.model = model; self.serial = serial; self.wwn = wwn; self.sizeBytes = sizeBytes; self.transport = transport
        self.media = media; self.removable = removable; self.health = health
    }
}

/// A battery from `/sys/class/power_supply/*` (type `Battery`), completed with SMBIOS type 22.
public struct BatteryInfo: Codable, Sendable, Equatable {
    /// The power_supply name (`BAT0`), or `smbios-N` when only SMBIOS knows the battery.
    public var name: String
    public var manufacturer: String?
    public var model: String?
    public var serial: String?
    /// `li_ion`, `li_poly`, `nimh`, `nicd`, `life`, `limn`, `lead_acid`, `zinc_air`, `other`, `unknown`.
    public var technology: String?
    /// `energy` (µWh, `energy_full*`) or `charge` (µAh, `charge_full*`): which counters gave the health.
    public var measure: String?
    /// Last full charge, in µWh (`energy`) or µAh (`charge`).
    public var fullCapacity: UInt64?
    /// Design capacity, same unit.
    public var designCapacity: UInt64?
    /// full ÷ design, in percent, rounded; nil when either is missing or zero.
    public var healthPercent: Int?
    public var cycleCount: Int?
    /// Current charge level (`capacity`), percent.
    public var chargePercent: Int?
    /// `charging`, `discharging`, `full`, `not_charging`, `unknown`.
    public var status: String?
    /// SMBIOS type 22 design capacity (mWh), when the firmware gives it.
    public var smbiosDesignCapacityMWh: Int?
    /// `power_supply`, `smbios`, or `power_supply+smbios`.
    public var source: String

    public init(name: String, manufacturer: String? = nil, model: String? = nil, serial: String? = nil, technology: String? = nil,
                measure: String? = nil, fullCapacity: UInt64? = nil, designCapacity: UInt64? = nil, healthPercent: Int? = nil,
                cycleCount: Int? = nil, chargePercent: Int? = nil, status: String? = nil, smbiosDesignCapacityMWh: Int? = nil,
                source: String) {
        self.name = name; self.manufacturer = manufacturer; self.model = model; self.serial = serial; self.technology = technology
        self.measure = measure; self.fullCapacity = fullCapacity; self.designCapacity = designCapacity
        self.healthPercent = healthPercent; self.cycleCount = cycleCount; self.chargePercent = chargePercent
        self.status = status; self.smbiosDesignCapacityMWh = smbiosDesignCapacityMWh; self.source = source
    }
}

/// A screen from its EDID (`/sys/class/drm/<card>-<connector>/edid`).
public struct ScreenInfo: Codable, Sendable, Equatable {
    /// The DRM connector (`card0-eDP-1`).
    public var connector: String
    /// eDP, LVDS and DSI connectors are the PC's own panel.
    public var builtIn: Bool
    /// The 3-letter PNP id (EDID bytes 08h–09h), e.g. `AUO`.
    public var manufacturerID: String?
    /// The company behind the PNP id, from the udev hwdb, when known.
    public var manufacturerName: String?
    /// The display product name descriptor (FCh), else the first text descriptor (FEh).
    public var model: String?
    /// EDID bytes 0Ah–0Bh, hex (`0x1234`).
    public var productCode: String?
    /// The serial string descriptor (FFh), else the 32-bit serial (0Ch–0Fh) when not zero.
    public var serial: String?
    public var manufactureYear: Int?
    public var widthCm: Int?
    public var heightCm: Int?
    /// Diagonal in inches, one decimal (from the first detailed timing's mm size, else the cm size).
    public var diagonalInches: Double?
    /// Native resolution: the first detailed timing descriptor.
    public var nativeWidth: Int?
    public var nativeHeight: Int?
    public var edidVersion: String?
    /// The base block's checksum (byte 7Fh) is right.
    public var checksumValid: Bool
    /// Stable code when the EDID could not be decoded at all (`edid_too_short`, `edid_bad_header`).
    public var error: String?

    public init(connector: String, builtIn: Bool, manufacturerID: String? = nil, manufacturerName: String? = nil, model: String? = nil,
                productCode: String? = nil, serial: String? = nil, manufactureYear: Int? = nil, widthCm: Int? = nil, heightCm: Int? = nil,
                diagonalInches: Double? = nil, nativeWidth: Int? = nil, nativeHeight: Int? = nil, edidVersion: String? = nil,
                checksumValid: Bool, error: String? = nil) {
        self.connector = connector; self.builtIn = builtIn; self.manufacturerID = manufacturerID
        self.manufacturerName = manufacturerName; self.model = model; self.productCode = productCode; self.serial = serial
        self.manufactureYear = manufactureYear; self.widthCm = widthCm; self.heightCm = heightCm
        self.diagonalInches = diagonalInches; self.nativeWidth = nativeWidth; self.nativeHeight = nativeHeight
        self.edidVersion = edidVersion; self.checksumValid = checksumValid; self.error = error
    }
}

/// A PCI device (GPUs): ids from sysfs, names from the udev hwdb when it has them.
public struct PCIDeviceInfo: Codable, Sendable, Equatable {
    /// The PCI address (`0000:00:02.0`).
    public var address: String
    /// Lowercase 4-digit hex ids.
    public var vendorID: String?
    public var deviceID: String?
    public var vendor: String?
    public var model: String?
    public var driver: String?

    public init(address: String, vendorID: String? = nil, deviceID: String? = nil, vendor: String? = nil, model: String? = nil,
                driver: String? = nil) {
        self.address = address; self.vendorID = vendorID; self.deviceID = deviceID; self.vendor = vendor
        self.model = model; self.driver = driver
    }
}

/// A network interface backed by hardware (`/sys/class/net/*` with a `device` link).
public struct NetworkInterfaceInfo: Codable, Sendable, Equatable {
    public var name: String
    /// `ethernet`, `wifi`, or `other`.
    public var kind: String
    public var macAddress: String?
    /// `pci`, `usb`, `virtio` (ids of the PCI function carrying it), or `other`.
    public var bus: String
    public var vendorID: String?
    public var deviceID: String?
    public var vendor: String?
    public var model: String?
    public var driver: String?

    public init(name: String, kind: String, macAddress: String? = nil, bus: String, vendorID: String? = nil, deviceID: String? = nil,
                vendor: String? = nil, model: String? = nil, driver: String? = nil) {
        self.name = name; self.kind = kind; self.macAddress = macAddress; self.bus = bus; self.vendorID = vendorID
        self.deviceID = deviceID; self.vendor = vendor; self.model = model; self.driver = driver
    }
}

public struct InventorySources: Codable, Sendable, Equatable {
    public enum Firmware: String, Codable, Sendable {
        /// `/sys/firmware/dmi/tables` (full SMBIOS).
        case smbios
        /// `/sys/class/dmi/id` only (the kernel's summary: no memory devices, no batteries).
        case dmiID = "dmi_id"
        case none
    }
    public var firmware: Firmware
    public var smbiosVersion: String?
    /// Whether PCI names came from the udev hwdb.
    public var hardwareDatabase: Bool

    public init(firmware: Firmware, smbiosVersion: String? = nil, hardwareDatabase: Bool = false) {
        self.firmware = firmware; self.smbiosVersion = smbiosVersion; self.hardwareDatabase = hardwareDatabase
    }
}

/// Something that could not be read or looked wrong; `code` is stable, `subject` names the part.
public struct InventoryWarning: Codable, Sendable, Equatable {
    public var code: String
    public var subject: String?

    public init(code: String, subject: String? = nil) {
        self.code = code; self.subject = subject
    }
}
