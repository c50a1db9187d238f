namespace Delta.Service;

/// <summary>Settings of `delta serve` (configuration section "Service").</summary>
public sealed class ServiceOptions
{
    /// <summary>Kestrel URLs. Loopback by default; any other address requires <see cref="Token"/>.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:5077";
    /// <summary>Bearer token every request must carry when set (required off-loopback).</summary>
    public string? Token { get; set; }
    /// <summary>"sqlite" (default, file under <see cref="StateDir"/>) or "postgres" (<see cref="ConnectionString"/>).</summary>
    public string Store { get; set; } = "sqlite";
    public string? ConnectionString { get; set; }
    /// <summary>Folder for the SQLite file and per-job work/checkpoint folders.</summary>
    public string StateDir { get; set; } = ".delta/service";
    /// <summary>Folders artifacts may be downloaded from (besides <see cref="StateDir"/>), e.g. the output and patch folders.</summary>
    public List<string> ArtifactRoots { get; set; } = [];
    /// <summary>Stable id of this host; a restarted host with the same id requeues what it held at once.</summary>
    public string HostId { get; set; } = Environment.MachineName;
    /// <summary>Devices this host runs jobs on, one job at a time each.</summary>
    public List<string> Devices { get; set; } = ["cpu"];
    public double LeaseSeconds { get; set; } = 30;
    public double HeartbeatSeconds { get; set; } = 5;
    public double PollSeconds { get; set; } = 1;
    /// <summary>Attempts that ended without an outcome (a crash, a lost lease) a job may have before it fails with "gave up
    /// after N attempts" instead of running again. An attempt its host stopped gracefully (checkpointed and requeued:
    /// a service restart) does not count.</summary>
    public int MaxAttempts { get; set; } = 3;
    /// <summary>How long graceful shutdown waits for a running job to checkpoint.</summary>
    public double ShutdownTimeoutSeconds { get; set; } = 120;

    public TimeSpan Lease => TimeSpan.FromSeconds(LeaseSeconds);
    public TimeSpan Heartbeat => TimeSpan.FromSeconds(HeartbeatSeconds);
    public TimeSpan Poll => TimeSpan.FromSeconds(PollSeconds);

    public IReadOnlyList<string> Validate()
    {
        var p = new List<string>();
        if (HeartbeatSeconds <= 0 || LeaseSeconds <= 0 || PollSeconds <= 0) p.Add("Service: LeaseSeconds, HeartbeatSeconds and PollSeconds must be > 0.");
        if (HeartbeatSeconds * 2 > LeaseSeconds) p.Add($"Service:HeartbeatSeconds ({HeartbeatSeconds}) must be at most half of LeaseSeconds ({LeaseSeconds}), or a live host loses its lease.");
        if (Devices.Count == 0) p.Add("Service:Devices is empty.");
        if (MaxAttempts < 1) p.Add($"Service:MaxAttempts ({MaxAttempts}) must be at least 1.");
        if (Store is not ("sqlite" or "postgres")) p.Add($"Service:Store: '{Store}' is not one of sqlite, postgres.");
        if (Store == "postgres" && string.IsNullOrWhiteSpace(ConnectionString)) p.Add("Service:ConnectionString is required with Store=postgres.");
        if (string.IsNullOrWhiteSpace(HostId)) p.Add("Service:HostId is empty.");
        return p;
    }
}
