namespace Delta.Abstractions.Plugins;

/// <summary>
/// A plugin's typed options: a class with a public parameterless constructor and settable properties,
/// bound by the host from the job file's "options" section (unknown keys are errors), then validated.
/// </summary>
public interface ITaskOptions
{
    /// <summary>One message per problem, each naming the key ("options.imageSize must be ≥ 32").</summary>
    IEnumerable<string> Validate();
}
