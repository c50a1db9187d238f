namespace Delta.Plugins.FasterRcnn.Model;

/// <summary>How the detector sits on the backbone (option names in brackets).</summary>
public enum HeadKind
{
    /// <summary>[fpn] Feature Pyramid Network over the chosen stages, one anchor size per level, multi-level RoIAlign,
    /// two-FC box head (FPN paper; torchvision's fasterrcnn_resnet50_fpn).</summary>
    Fpn,
    /// <summary>[c4] The original ResNet Faster R-CNN (He et al. 2016, "C4"): RPN with all anchor sizes on C4 (stride 16),
    /// RoIAlign 14x14 on C4, then the backbone's own stage 5 (C5, stride 2 → 7x7; frozen weights with their Δ gates when
    /// Δ covers C5) and global average pooling as the box head, followed by the class and box linear layers.</summary>
    C4,
}
