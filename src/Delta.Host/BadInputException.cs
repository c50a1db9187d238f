namespace Delta.Host;

/// <summary>The user's input is wrong (a job file, a path, an option): exit code 2, message shown as is.</summary>
public sealed class BadInputException(string message) : Delta.Abstractions.InputException(message)
{
    public BadInputException(IEnumerable<string> problems) : this(string.Join(Environment.NewLine, problems)) { }
}
