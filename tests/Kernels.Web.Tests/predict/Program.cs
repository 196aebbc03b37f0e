using System.Globalization;
using Kernels.Nn;

// Usage: predict CHECKPOINT < images: one image per line, 784 comma-separated floats; prints one line of
// probabilities per image (round-trip precision), as the desktop library computes them.
Classifier model = Classifier.Load(args[0]);
var probabilities = new float[model.Classes];
string? line;
while ((line = Console.ReadLine()) is not null)
{
    if (line.Length == 0) continue;
    float[] image = line.Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
    model.Predict(image, probabilities);
    Console.WriteLine(string.Join(",", probabilities.Select(p => p.ToString("R", CultureInfo.InvariantCulture))));
}
