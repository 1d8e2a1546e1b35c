import HNAlert
import HNOutput
import HNStore

/// Where a sensor in central mode sends its alerts instead of correlating them itself: the
/// central store's forwarder (a local spool, then PostgreSQL). Called on the output thread,
/// so it is never shared between threads of the pipeline; it hands alerts to its own thread.
public protocol AlertForwarder: AnyObject {
    /// The capture file (replay) or interface the next alerts come from.
    var source: String? { get set }
    /// The sensor as it registers in the central store once the database answers.
    func register(_ record: IncidentStore.SensorRecord)
    /// Takes one alert as the output stage raises it.
    func add(_ alert: SecurityAlert)
    /// After each packet's output: hands a full batch on.
    func afterPacket()
    /// The end of the input: everything taken is handed on.
    func flush()
    /// The `stats.central` counters.
    func statsTree() -> StatsTree
}
