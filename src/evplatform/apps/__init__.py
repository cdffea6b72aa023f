"""Third-party apps as platform artefacts: manifests, the store policy, compatibility, publisher delivery."""
