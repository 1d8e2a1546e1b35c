/// The hnsensor version, printed by `hnsensor version` and written into EVE stats.
public enum HNSensorVersion {
    public static let string = "0.1.0"
}
