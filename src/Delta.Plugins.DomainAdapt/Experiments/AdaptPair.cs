namespace Delta.Plugins.DomainAdapt.Experiments;

/// <summary>A source → target domain pair by registry name (see <see cref="Data.DigitDomains.Names"/>).</summary>
public sealed record AdaptPair(string Source, string Target)
{
    public override string ToString() => $"{Source}→{Target}";

    public static AdaptPair Parse(string text)
    {
        var parts = text.Split(["->", "→"], StringSplitOptions.TrimEntries);
        if (parts.Length != 2 || parts.Any(p => !Data.DigitDomains.Names.Contains(p.ToLowerInvariant())))
            throw new ArgumentException($"Bad pair '{text}': expected SOURCE->TARGET with domains {string.Join(", ", Data.DigitDomains.Names)}.");
        return new AdaptPair(parts[0].ToLowerInvariant(), parts[1].ToLowerInvariant());
    }
}
