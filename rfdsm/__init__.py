"""rfdsm: exact asymptotic learning curves of diffusion models trained by denoising score matching."""
