# Independent judge for bench/neural.ts's style-scale part: OpenCV (Debian python3-opencv), never
# our own metrics. Reads raw rgb24 frames written by the bench: per case the full-size input, the
# style's output on the reduced input ("small") and our guided upsample of it. OpenCV makes the
# plain bicubic upsample itself and scores both against the input: edge F1 (Canny edges of the
# output matched to the input's within 1 pixel, and the reverse) and, for the identity "style"
# (the reduced input itself), PSNR to the input. Prints JSON.
import json, sys
import cv2
import numpy as np

d = sys.argv[1]
meta = json.load(open(f'{d}/meta.json'))

def load(name, w, h):
    return np.fromfile(f'{d}/{name}.rgb', np.uint8).reshape(h, w, 3)

def edges(img):
    g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    return cv2.Canny(g, 50, 150) > 0

def f1(a, b):
    k = np.ones((3, 3), np.uint8)
    da = cv2.dilate(a.astype(np.uint8), k) > 0
    db = cv2.dilate(b.astype(np.uint8), k) > 0
    if not a.any() or not b.any():
        return 0.0
    precision = (b & da).sum() / b.sum()
    recall = (a & db).sum() / a.sum()
    return float(2 * precision * recall / (precision + recall)) if precision + recall > 0 else 0.0

def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b) ** 2)
    return float(10 * np.log10(255**2 / mse)) if mse > 0 else 99.0

out = []
for c in meta['cases']:
    W, H, w, h = c['width'], c['height'], c['smallWidth'], c['smallHeight']
    full = load(f"{c['name']}-input", W, H)
    small = load(f"{c['name']}-small", w, h)
    guided = load(f"{c['name']}-guided", W, H)
    cubic = cv2.resize(small, (W, H), interpolation=cv2.INTER_CUBIC)
    e = edges(full)
    out.append({
        'name': c['name'],
        'f1Guided': f1(e, edges(guided)),
        'f1Bicubic': f1(e, edges(cubic)),
        'psnrGuided': psnr(full, guided),
        'psnrBicubic': psnr(full, cubic),
    })
print(json.dumps(out))
