"""The pure core: channels, delivery outcomes, retry timing, and how money and times read."""
